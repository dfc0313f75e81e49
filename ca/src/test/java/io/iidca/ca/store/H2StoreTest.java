package io.iidca.ca.store;

import io.iidca.ca.config.DbConfig;

/** The store contract on the embedded H2 file database, the default. */
class H2StoreTest extends StoreContract {

  @Override
  DbConfig database() {
    return DbConfig.DEFAULT;
  }

  @Override
  DbConfig reopenConfig() {
    return DbConfig.DEFAULT;
  }

  @Override
  DbConfig emptyDatabase() {
    return new DbConfig("h2", "jdbc:h2:file:" + directory.resolve("empty").toAbsolutePath(),
        null, null);
  }
}
