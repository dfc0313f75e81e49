package io.iidca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code iidca db check} and {@code db migrate} on the embedded database of a new CA. */
class DbCommandsTest {

  @TempDir
  Path directory;

  CliRunner cli() throws Exception {
    CliRunner cli = new CliRunner(directory.resolve("ca").toString());
    Path pw = Files.writeString(directory.resolve("pw"), "secret\n");
    CliRunner.Result init = cli.run("init", "--name", "Db CA", "--dns", "127.0.0.1",
        "--address", "127.0.0.1:0", "--password-file", pw.toString());
    assertThat(init.status()).as(init.err()).isZero();
    return cli;
  }

  @Test
  void newDatabaseIsBehindUntilMigrated() throws Exception {
    CliRunner cli = cli();

    CliRunner.Result before = cli.run("db", "check");
    CliRunner.Result migrate = cli.run("db", "migrate");
    CliRunner.Result after = cli.run("db", "check");

    assertThat(before.status()).isEqualTo(1);
    assertThat(before.out()).contains("schema version: none", "pending migrations: [1, 2, 3]");
    assertThat(before.err()).contains("iidca db migrate");
    assertThat(migrate.status()).as(migrate.err()).isZero();
    assertThat(migrate.err()).contains("Schema version: 3");
    assertThat(after.status()).isZero();
    assertThat(after.out()).contains("schema version: 3", "pending migrations: []");
  }

  @Test
  void newerSchemaIsReportedAndRefusedOnRequest() throws Exception {
    CliRunner cli = cli();
    assertThat(cli.run("db", "migrate").status()).isZero();
    String url = "jdbc:h2:file:" + directory.resolve("ca/db/iidca").toAbsolutePath();
    try (var connection = DriverManager.getConnection(url);
        Statement statement = connection.createStatement()) {
      statement.execute("INSERT INTO \"flyway_schema_history\" (\"installed_rank\","
          + " \"version\", \"description\", \"type\", \"script\", \"checksum\","
          + " \"installed_by\", \"execution_time\", \"success\") VALUES (99, '99',"
          + " 'from a newer iidca', 'SQL', 'V99__newer.sql', 0, 'test', 0, TRUE)");
    }

    CliRunner.Result lenient = cli.run("db", "check");
    CliRunner.Result strict = cli.run("db", "check", "--refuse-newer-schema");

    assertThat(lenient.status()).isZero();
    assertThat(lenient.out()).contains("versions from a newer iidca: [99]");
    assertThat(strict.status()).isEqualTo(1);
    assertThat(strict.err()).contains("newer iidca");
  }

  @Test
  void badDatabaseUrlIsUsageError() throws Exception {
    CliRunner.Result result = cli().run("db", "check", "--db", "postgres://nowhere");

    assertThat(result.status()).isEqualTo(2);
    assertThat(result.err()).contains("postgres://nowhere");
  }
}
