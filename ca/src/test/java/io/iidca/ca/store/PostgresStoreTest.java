package io.iidca.ca.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.iidca.ca.config.DbConfig;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The store contract on PostgreSQL: a Testcontainers container where Docker runs, else a
 * private cluster of the locally installed server. Skipped only where neither exists; the
 * project's test script installs PostgreSQL, so CI runs it.
 */
class PostgresStoreTest extends StoreContract {

  static TestDatabase postgres;

  @BeforeAll
  static void startPostgres() throws Exception {
    Optional<TestDatabase> database = LocalPostgres.open();
    assumeTrue(database.isPresent(), "no Docker engine and no PostgreSQL server installed");
    postgres = database.get();
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    if (postgres != null) {
      postgres.close();
    }
  }

  @Override
  DbConfig database() throws Exception {
    try (var connection = DriverManager.getConnection(postgres.config().url());
        Statement statement = connection.createStatement()) {
      statement.execute("DROP SCHEMA public CASCADE");
      statement.execute("CREATE SCHEMA public");
    }
    return postgres.config();
  }

  @Override
  DbConfig reopenConfig() {
    return postgres.config();
  }

  @Override
  DbConfig emptyDatabase() throws Exception {
    return database();
  }

  /**
   * PostgreSQL syncs its log at each commit, so the store commits with one thread, as on H2,
   * and its groups grow under load. Four committers made groups of about two issuances.
   */
  @Test
  void oneThreadCommits() {
    assertThat(Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> thread.isAlive() && thread.getName().startsWith("iidca-store-commit"))
        .count()).isEqualTo(1);
  }
}
