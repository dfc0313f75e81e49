package io.iidca.ca.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.iidca.ca.config.DbConfig;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.PolicyDeniedException;
import io.iidca.ca.pki.CaFiles;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link JdbcStore} on the embedded H2 file database: what one issuance writes, that a replay
 * or a second enrollment writes nothing, that the database decides races between threads, and
 * that a reopened store keeps its data and its schema version.
 */
class JdbcStoreTest {

  static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);
  static final String PROVISIONER = "aws";

  @TempDir
  Path directory;

  CaFiles files;
  JdbcStore store;

  @BeforeEach
  void open() {
    files = new CaFiles(directory);
    store = JdbcStore.open(DbConfig.DEFAULT, files);
  }

  @AfterEach
  void close() {
    store.close();
  }

  static Issuance issuance(String instanceId, String tokenId, boolean trustOnFirstUse) {
    return issuance(instanceId, tokenId, trustOnFirstUse, List.of("app.internal", "10.0.0.5"));
  }

  static Issuance issuance(String instanceId, String tokenId, boolean trustOnFirstUse,
      List<String> sans) {
    String serial = UUID.randomUUID().toString().replace("-", "");
    return new Issuance(serial, PROVISIONER, instanceId, "123456789042", "app.internal", sans,
        NOW.minusSeconds(60), NOW.plus(Duration.ofHours(24)), "ab".repeat(32),
        "-----BEGIN CERTIFICATE-----\n" + serial + "\n-----END CERTIFICATE-----\n", NOW,
        trustOnFirstUse, NOW.minus(Duration.ofHours(1)), tokenId, NOW.plusSeconds(300));
  }

  @Test
  void recordThenFindReturnsEveryField() {
    Issuance issued = issuance("i-0123456789abcdef0", "token-1", true);

    store.record(issued);

    CertificateRecord found = store.findCertificate(issued.serial()).orElseThrow();
    assertThat(found).isEqualTo(new CertificateRecord(issued.serial(), PROVISIONER,
        issued.instanceId(), issued.account(), issued.subject(), issued.sans(),
        issued.notBefore(), issued.notAfter(), issued.keyFingerprint(),
        issued.certificatePem(), issued.issuedAt()));
    Registration registration = store.findRegistration(PROVISIONER, issued.instanceId())
        .orElseThrow();
    assertThat(registration).isEqualTo(new Registration(PROVISIONER, issued.instanceId(),
        issued.account(), issued.pendingTime(), issued.serial(), NOW));
    assertThat(store.isTokenUsed(PROVISIONER, "token-1")).isTrue();
    assertThat(store.countCertificates()).isEqualTo(1);
    assertThat(store.certificatesOf(PROVISIONER, issued.instanceId())).containsExactly(found);
  }

  @Test
  void recordWithoutSansFindsEmptyList() {
    Issuance issued = issuance("i-0123456789abcdef0", "token-1", true, List.of());

    store.record(issued);

    assertThat(store.findCertificate(issued.serial()).orElseThrow().sans()).isEmpty();
  }

  /** Email and URI SANs may contain commas, in a quoted local part or in a URI path. */
  @Test
  void sansWithCommaRoundTrip() {
    List<String> sans = List.of("app.internal", "\"ops,dev\"@example.com",
        "spiffe://example.org/a,b");
    Issuance issued = issuance("i-0123456789abcdef0", "token-1", true, sans);

    store.record(issued);

    assertThat(store.findCertificate(issued.serial()).orElseThrow().sans())
        .containsExactlyElementsOf(sans);
  }

  /** Each name is followed by a line feed; validated names contain no control characters. */
  @Test
  void sansAreStoredLineFeedTerminated() throws Exception {
    Issuance issued = issuance("i-0123456789abcdef0", "token-1", true,
        List.of("app.internal", "\"ops,dev\"@example.com"));

    store.record(issued);

    assertThat(text("SELECT sans FROM certificates WHERE serial = '" + issued.serial() + "'"))
        .isEqualTo("app.internal\n\"ops,dev\"@example.com\n");
  }

  /** Rows written before line feeds separated names hold them comma-joined. */
  @Test
  void commaJoinedSansOfOlderRowsAreRead() throws Exception {
    Issuance issued = issuance("i-0123456789abcdef0", "token-1", true);
    store.record(issued);

    execute("UPDATE certificates SET sans = 'app.internal,10.0.0.5' WHERE serial = '"
        + issued.serial() + "'");

    assertThat(store.findCertificate(issued.serial()).orElseThrow().sans())
        .containsExactly("app.internal", "10.0.0.5");
  }

  @Test
  void replayedTokenIsRejectedAndWritesNothing() {
    store.record(issuance("i-0000000000000000a", "token-1", true));

    IdentityRejectedException replay = catchThrowableOfType(IdentityRejectedException.class,
        () -> store.record(issuance("i-0000000000000000b", "token-1", true)));

    assertThat(replay).isNotNull();
    assertThat(replay.stage()).isEqualTo("record");
    assertThat(replay.reason()).isEqualTo("token id token-1 was already used with provisioner"
        + " aws (replay)");
    assertThat(store.countCertificates()).isEqualTo(1);
    assertThat(store.findRegistration(PROVISIONER, "i-0000000000000000b")).isEmpty();
    assertThat(store.certificatesOf(PROVISIONER, "i-0000000000000000b")).isEmpty();
  }

  @Test
  void tokenIdsAreScopedPerProvisioner() {
    store.record(issuance("i-0000000000000000a", "token-1", true));
    Issuance other = issuance("i-0000000000000000a", "token-1", true);
    Issuance otherProvisioner = new Issuance(other.serial(), "gcp", other.instanceId(),
        other.account(), other.subject(), other.sans(), other.notBefore(), other.notAfter(),
        other.keyFingerprint(), other.certificatePem(), other.issuedAt(), true,
        other.pendingTime(), other.tokenId(), other.tokenExpiry());

    store.record(otherProvisioner);

    assertThat(store.countCertificates()).isEqualTo(2);
    assertThat(store.isTokenUsed("gcp", "token-1")).isTrue();
  }

  @Test
  void secondEnrollmentDeniedWritesNothing() {
    Issuance first = issuance("i-0123456789abcdef0", "token-1", true);
    store.record(first);

    PolicyDeniedException denied = catchThrowableOfType(PolicyDeniedException.class,
        () -> store.record(issuance("i-0123456789abcdef0", "token-2", true)));

    assertThat(denied).isNotNull();
    assertThat(denied.stage()).isEqualTo("record");
    assertThat(denied.reason()).startsWith("instance i-0123456789abcdef0 already enrolled with"
        + " provisioner aws on " + NOW + " (serial " + first.serial() + ")");
    assertThat(store.countCertificates()).isEqualTo(1);
    assertThat(store.isTokenUsed(PROVISIONER, "token-2")).isFalse();
    assertThat(store.findRegistration(PROVISIONER, "i-0123456789abcdef0").orElseThrow()
        .firstSerial()).isEqualTo(first.serial());
  }

  @Test
  void withoutTrustOnFirstUseInstanceEnrollsTwice() {
    store.record(issuance("i-0123456789abcdef0", "token-1", false));
    store.record(issuance("i-0123456789abcdef0", "token-2", false));

    assertThat(store.countCertificates()).isEqualTo(2);
    assertThat(store.certificatesOf(PROVISIONER, "i-0123456789abcdef0")).hasSize(2);
    assertThat(store.findRegistration(PROVISIONER, "i-0123456789abcdef0")).isEmpty();
    assertThat(store.registrations(null)).isEmpty();
  }

  @Test
  void concurrentFirstEnrollmentsRegisterExactlyOne() throws Exception {
    List<Issuance> attempts = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      attempts.add(issuance("i-0123456789abcdef0", "token-" + i, true));
    }

    Outcomes outcomes = race(attempts);

    assertThat(outcomes.succeeded.get()).isEqualTo(1);
    assertThat(outcomes.denied.get()).isEqualTo(15);
    assertThat(outcomes.other).isEmpty();
    assertThat(store.countCertificates()).isEqualTo(1);
    assertThat(count("SELECT COUNT(*) FROM registrations")).isEqualTo(1);
    assertThat(count("SELECT COUNT(*) FROM used_tokens")).isEqualTo(1);
    String winner = store.registrations(PROVISIONER).get(0).firstSerial();
    assertThat(store.findCertificate(winner)).isPresent();
  }

  @Test
  void concurrentReplaysOfOneTokenRecordExactlyOne() throws Exception {
    List<Issuance> attempts = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      attempts.add(issuance(String.format("i-%017x", i), "token-shared", true));
    }

    Outcomes outcomes = race(attempts);

    assertThat(outcomes.succeeded.get()).isEqualTo(1);
    assertThat(outcomes.rejected.get()).isEqualTo(15);
    assertThat(outcomes.other).isEmpty();
    assertThat(store.countCertificates()).isEqualTo(1);
    assertThat(count("SELECT COUNT(*) FROM registrations")).isEqualTo(1);
  }

  @Test
  void purgeDeletesOnlyTokensExpiredBeforeNow() {
    Instant at = NOW.plus(Duration.ofHours(1));
    for (long offset : new long[] {-1, 0, 1}) {
      Issuance base = issuance("i-" + "0".repeat(16) + (offset + 2), "token" + offset, true);
      store.record(new Issuance(base.serial(), PROVISIONER, base.instanceId(), base.account(),
          base.subject(), base.sans(), base.notBefore(), base.notAfter(), base.keyFingerprint(),
          base.certificatePem(), base.issuedAt(), true, base.pendingTime(), base.tokenId(),
          at.plusSeconds(offset)));
    }

    assertThat(store.purgeExpiredTokens(at)).isEqualTo(1);

    assertThat(store.isTokenUsed(PROVISIONER, "token-1")).isFalse();
    assertThat(store.isTokenUsed(PROVISIONER, "token0")).isTrue();
    assertThat(store.isTokenUsed(PROVISIONER, "token1")).isTrue();
    assertThat(store.countCertificates()).isEqualTo(3);
    assertThat(store.purgeExpiredTokens(at)).isZero();
  }

  @Test
  void reopenedStoreKeepsDataAndSchemaVersion() throws Exception {
    Issuance issued = issuance("i-0123456789abcdef0", "token-1", true);
    store.record(issued);
    long migrations = count("SELECT COUNT(*) FROM \"flyway_schema_history\""
        + " WHERE \"type\" = 'SQL'");
    store.close();

    store = JdbcStore.open(DbConfig.DEFAULT, files);
    store.close();
    store = JdbcStore.open(DbConfig.DEFAULT, files);

    assertThat(store.findCertificate(issued.serial())).isPresent();
    assertThat(store.findRegistration(PROVISIONER, issued.instanceId())).isPresent();
    assertThat(store.isTokenUsed(PROVISIONER, "token-1")).isTrue();
    assertThat(count("SELECT COUNT(*) FROM \"flyway_schema_history\" WHERE \"type\" = 'SQL'"))
        .isEqualTo(migrations);
    assertThat(count("SELECT COUNT(*) FROM \"flyway_schema_history\" WHERE \"type\" = 'SQL'"
        + " AND NOT \"success\"")).isZero();
    assertThat(count("SELECT COUNT(*) FROM \"flyway_schema_history\" WHERE \"success\""
        + " AND \"version\" = '1' AND \"installed_rank\" = 1")).isEqualTo(1);
  }

  @Test
  void embeddedDatabaseGetsTheSmallerPageCache() throws Exception {
    assertThat(cacheSizeKb()).isEqualTo(String.valueOf(JdbcStore.H2_CACHE_KB));
  }

  @Test
  void configuredCacheSizeIsKept() throws Exception {
    store.close();
    DbConfig own = new DbConfig("h2", h2Url() + ";cache_size=2048", null, null);

    store = JdbcStore.open(own, files);

    assertThat(cacheSizeKb()).isEqualTo("2048");
  }

  /**
   * Reads the page cache size in KB that the open database was given, or "not set". A second
   * connection reads it because H2 shares one database between the connections of a JVM.
   */
  private String cacheSizeKb() throws Exception {
    return text("SELECT COALESCE(MAX(SETTING_VALUE), 'not set')"
        + " FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'CACHE_SIZE'");
  }

  @Test
  void healthyStoreAnswers() {
    assertThat(store.isHealthy()).isTrue();
  }

  /** Counts of each outcome when every issuance is recorded at once from its own thread. */
  static final class Outcomes {
    final AtomicInteger succeeded = new AtomicInteger();
    final AtomicInteger denied = new AtomicInteger();
    final AtomicInteger rejected = new AtomicInteger();
    final List<Throwable> other = new java.util.concurrent.CopyOnWriteArrayList<>();
  }

  Outcomes race(List<Issuance> attempts) throws Exception {
    Outcomes outcomes = new Outcomes();
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(attempts.size());
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (Issuance attempt : attempts) {
        Callable<Void> task = () -> {
          start.await();
          try {
            store.record(attempt);
            outcomes.succeeded.incrementAndGet();
          } catch (PolicyDeniedException e) {
            outcomes.denied.incrementAndGet();
          } catch (IdentityRejectedException e) {
            outcomes.rejected.incrementAndGet();
          } catch (RuntimeException e) {
            outcomes.other.add(e);
          }
          return null;
        };
        futures.add(pool.submit(task));
      }
      start.countDown();
      for (Future<?> future : futures) {
        future.get();
      }
    } finally {
      pool.shutdownNow();
    }
    return outcomes;
  }

  /** Runs a one-value query on a second connection to the same H2 file. */
  String text(String sql) throws Exception {
    try (Connection connection = DriverManager.getConnection(h2Url());
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      rows.next();
      return rows.getString(1);
    }
  }

  /** Runs an update on a second connection to the same H2 file, as an operator would. */
  void execute(String sql) throws Exception {
    try (Connection connection = DriverManager.getConnection(h2Url());
        Statement statement = connection.createStatement()) {
      statement.executeUpdate(sql);
    }
  }

  String h2Url() {
    return "jdbc:h2:file:" + files.database().toAbsolutePath();
  }

  /** Runs a COUNT query on a second connection to the same H2 file, as an operator would. */
  long count(String sql) throws Exception {
    String url = "jdbc:h2:file:" + files.database().toAbsolutePath();
    try (Connection connection = DriverManager.getConnection(url);
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      rows.next();
      return rows.getLong(1);
    }
  }
}
