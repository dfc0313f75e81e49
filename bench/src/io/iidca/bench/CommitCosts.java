package io.iidca.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Times the commit of one issuance on embedded H2 under settings that an operator can put in
 * the JDBC URL: the three inserts of an issuance (used token, registration, certificate), in
 * one transaction, from {@link #THREADS} threads as iidca's pool of 4 connections runs them.
 * The tables have the columns of iidca's schema. Each variant gets a new database file.
 *
 * <p>Prints, per variant and round, the process CPU and the wall time per commit. Usage: {@code
 * CommitCosts DIRECTORY}, an empty directory for the database files.
 */
public final class CommitCosts {

  private static final int THREADS = 4;
  private static final int WARMUP_COMMITS = 2000;
  private static final int COMMITS = 8000;
  /** Bytes of the stored DER certificate: an estimate for a leaf with an EC P-256 key. */
  private static final int CERTIFICATE_BYTES = 560;

  private record Variant(String name, String settings, boolean der) {}

  private static final List<Variant> VARIANTS = List.of(
      new Variant("WRITE_DELAY=0, PEM text (iidca today)", ";WRITE_DELAY=0", false),
      new Variant("WRITE_DELAY=0, DER in VARBINARY", ";WRITE_DELAY=0", true),
      new Variant("WRITE_DELAY=500, PEM text (H2's default delay)", ";WRITE_DELAY=500", false));

  private CommitCosts() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      throw new IllegalArgumentException("usage: CommitCosts DIRECTORY");
    }
    Path directory = Path.of(args[0]);
    Files.createDirectories(directory);
    // Two rounds, because the first variant of the first round also pays for the JIT.
    int index = 0;
    for (int round = 1; round <= 2; round++) {
      for (Variant variant : VARIANTS) {
        String url = "jdbc:h2:file:" + directory.resolve("commit" + index++).toAbsolutePath()
            + variant.settings();
        measure(variant, url, round);
      }
    }
  }

  private static void measure(Variant variant, String url, int round) throws Exception {
    try (Connection keeper = DriverManager.getConnection(url)) {
      createTables(keeper, variant.der());
      run(url, variant.der(), WARMUP_COMMITS, "warm");
      var os = (com.sun.management.OperatingSystemMXBean)
          ManagementFactory.getOperatingSystemMXBean();
      long cpuBefore = os.getProcessCpuTime();
      long wallBefore = System.nanoTime();
      run(url, variant.der(), COMMITS, "run");
      long cpu = os.getProcessCpuTime() - cpuBefore;
      long wall = System.nanoTime() - wallBefore;
      System.out.printf(Locale.ROOT, "h2 commit, round %d: %-48s cpu_ms_per_commit=%.3f"
          + " wall_ms_per_commit=%.3f commits=%d threads=%d%n", round, variant.name(),
          cpu / 1e6 / COMMITS, wall / 1e6 / COMMITS, COMMITS, THREADS);
    }
  }

  private static void createTables(Connection connection, boolean der) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute("CREATE TABLE certificates (serial VARCHAR(64) PRIMARY KEY,"
          + " provisioner VARCHAR(255) NOT NULL, instance_id VARCHAR(255) NOT NULL,"
          + " account VARCHAR(64) NOT NULL, subject VARCHAR(1024) NOT NULL,"
          + " sans VARCHAR(8192) NOT NULL, not_before TIMESTAMP WITH TIME ZONE NOT NULL,"
          + " not_after TIMESTAMP WITH TIME ZONE NOT NULL, key_fingerprint VARCHAR(64) NOT NULL,"
          + " certificate " + (der ? "VARBINARY(8192)" : "VARCHAR(16384)") + " NOT NULL,"
          + " issued_at TIMESTAMP WITH TIME ZONE NOT NULL)");
      statement.execute("CREATE INDEX certificates_instance ON certificates"
          + " (provisioner, instance_id)");
      statement.execute("CREATE TABLE registrations (provisioner VARCHAR(255) NOT NULL,"
          + " instance_id VARCHAR(255) NOT NULL, account VARCHAR(64) NOT NULL,"
          + " pending_time TIMESTAMP WITH TIME ZONE, first_serial VARCHAR(64) NOT NULL,"
          + " first_enrolled_at TIMESTAMP WITH TIME ZONE NOT NULL,"
          + " PRIMARY KEY (provisioner, instance_id))");
      statement.execute("CREATE TABLE used_tokens (provisioner VARCHAR(255) NOT NULL,"
          + " token_id VARCHAR(255) NOT NULL, expires_at TIMESTAMP WITH TIME ZONE NOT NULL,"
          + " PRIMARY KEY (provisioner, token_id))");
    }
  }

  /** Commits {@code commits} issuances from {@link #THREADS} threads, one connection each. */
  private static void run(String url, boolean der, int commits, String prefix)
      throws Exception {
    AtomicLong next = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    List<Exception> failures = new CopyOnWriteArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      Thread thread = new Thread(() -> {
        try (Connection connection = DriverManager.getConnection(url)) {
          connection.setAutoCommit(false);
          SecureRandom random = new SecureRandom();
          for (long n = next.getAndIncrement(); n < commits; n = next.getAndIncrement()) {
            insertIssuance(connection, prefix + "-" + n, der, random);
            connection.commit();
          }
        } catch (Exception e) {
          failures.add(e);
        }
      });
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join();
    }
    if (!failures.isEmpty()) {
      throw failures.get(0);
    }
  }

  private static void insertIssuance(Connection connection, String id, boolean der,
      SecureRandom random) throws SQLException {
    Timestamp now = Timestamp.from(Instant.now());
    try (PreparedStatement token = connection.prepareStatement(
        "INSERT INTO used_tokens (provisioner, token_id, expires_at) VALUES (?, ?, ?)")) {
      token.setString(1, "bench-aws");
      token.setString(2, "token-" + id);
      token.setTimestamp(3, now);
      token.executeUpdate();
    }
    try (PreparedStatement registration = connection.prepareStatement(
        "INSERT INTO registrations (provisioner, instance_id, account, pending_time,"
            + " first_serial, first_enrolled_at) VALUES (?, ?, ?, NULL, ?, ?)")) {
      registration.setString(1, "bench-aws");
      registration.setString(2, "i-" + id);
      registration.setString(3, "123456789042");
      registration.setString(4, "serial-" + id);
      registration.setTimestamp(5, now);
      registration.executeUpdate();
    }
    byte[] certificate = new byte[CERTIFICATE_BYTES];
    random.nextBytes(certificate);
    try (PreparedStatement insert = connection.prepareStatement(
        "INSERT INTO certificates (serial, provisioner, instance_id, account, subject, sans,"
            + " not_before, not_after, key_fingerprint, certificate, issued_at)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      insert.setString(1, "serial-" + id);
      insert.setString(2, "bench-aws");
      insert.setString(3, "i-" + id);
      insert.setString(4, "123456789042");
      insert.setString(5, "app.internal");
      insert.setString(6, "app.internal");
      insert.setTimestamp(7, now);
      insert.setTimestamp(8, now);
      insert.setString(9, "sha256-" + id);
      if (der) {
        insert.setBytes(10, certificate);
      } else {
        insert.setString(10, pem(certificate));
      }
      insert.setTimestamp(11, now);
      insert.executeUpdate();
    }
  }

  /** Returns PEM as {@code Pem.encode} writes it: 64-character lines between the labels. */
  private static String pem(byte[] der) {
    return "-----BEGIN CERTIFICATE-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END CERTIFICATE-----\n";
  }
}
