package io.iidca.ca.store;

import io.iidca.ca.config.DbConfig;
import java.io.IOException;

/**
 * A database for one test class: where to connect, and how to cut it off and bring it back to
 * test outages. Implementations: {@link LocalPostgres} (a private cluster, or a Testcontainers
 * container where a Docker engine exists).
 */
public interface TestDatabase extends AutoCloseable {

  /** The store configuration that reaches this database. */
  DbConfig config();

  /** Stops the database server, as a crash or a network cut would look to the CA. */
  void stop() throws Exception;

  /** Starts the stopped server again on the same address and data. */
  void start() throws Exception;

  @Override
  void close() throws IOException;
}
