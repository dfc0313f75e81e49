package io.iidca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code iidca db check}, {@code db migrate} and {@code db compact} on the embedded database of
 * a new CA.
 */
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
    assertThat(before.out()).contains("schema version: none", "pending migrations: [1, 2, 3, 4]");
    assertThat(before.err()).contains("iidca db migrate");
    assertThat(migrate.status()).as(migrate.err()).isZero();
    assertThat(migrate.err()).contains("Schema version: 4");
    assertThat(after.status()).isZero();
    assertThat(after.out()).contains("schema version: 4", "pending migrations: []");
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

  @Test
  void compactShrinksFileKeepsRows() throws Exception {
    CliRunner cli = cli();
    assertThat(cli.run("db", "migrate").status()).isZero();
    String url = "jdbc:h2:file:" + directory.resolve("ca/db/iidca").toAbsolutePath()
        + ";WRITE_DELAY=0";
    try (var connection = DriverManager.getConnection(url);
        var insert = connection.prepareStatement("INSERT INTO used_tokens (provisioner,"
            + " token_id, expires_at) VALUES ('aws', ?, CURRENT_TIMESTAMP)")) {
      // One commit per row, as iidca writes them: each leaves replaced pages in the file.
      for (int i = 0; i < 2000; i++) {
        insert.setString(1, "token-" + i);
        insert.executeUpdate();
      }
    }
    Path file = directory.resolve("ca/db/iidca.mv.db");
    long before = Files.size(file);

    CliRunner.Result compact = cli.run("db", "compact");

    assertThat(compact.status()).as(compact.err()).isZero();
    assertThat(compact.err()).contains("Compacted", "iidca.mv.db");
    assertThat(Files.size(file)).as("file size after compaction, %d bytes before", before)
        .isLessThan(before / 2);
    try (var connection = DriverManager.getConnection(url);
        var count = connection.createStatement()
            .executeQuery("SELECT COUNT(*) FROM used_tokens")) {
      count.next();
      assertThat(count.getLong(1)).isEqualTo(2000);
    }
  }

  @Test
  void compactRejectsOpenFileAndPostgres() throws Exception {
    CliRunner cli = cli();
    assertThat(cli.run("db", "migrate").status()).isZero();
    String url = "jdbc:h2:file:" + directory.resolve("ca/db/iidca").toAbsolutePath();

    CliRunner.Result postgres = cli.run("db", "compact", "--db",
        "jdbc:postgresql://127.0.0.1:1/iidca");
    CliRunner.Result inUse;
    Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString(), "-cp", System.getProperty("java.class.path"),
        DatabaseHolder.class.getName(), url).redirectErrorStream(true).start();
    try {
      // The other process keeps the file open until its input closes, as iidca serve would.
      assertThat(new String(holder.getInputStream().readNBytes(5), StandardCharsets.US_ASCII))
          .isEqualTo("open\n");
      inUse = cli.run("db", "compact");
    } finally {
      holder.getOutputStream().close();
      holder.waitFor(30, TimeUnit.SECONDS);
      holder.destroyForcibly();
    }

    assertThat(postgres.status()).isEqualTo(2);
    assertThat(postgres.err()).contains("embedded H2 database only", "VACUUM");
    assertThat(inUse.status()).isNotZero();
    assertThat(inUse.err()).contains("iidca.mv.db", "in use", "stop the CA");
  }

  /** Opens the database named by its argument and keeps it open until standard input ends. */
  public static final class DatabaseHolder {
    public static void main(String[] args) throws Exception {
      try (var connection = DriverManager.getConnection(args[0])) {
        System.out.print("open\n");
        System.out.flush();
        System.in.readAllBytes();
      }
    }
  }
}
