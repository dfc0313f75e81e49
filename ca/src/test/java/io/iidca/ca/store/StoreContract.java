package io.iidca.ca.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import io.iidca.ca.config.DbConfig;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.PolicyDeniedException;
import io.iidca.ca.error.UnavailableException;
import io.iidca.ca.pki.CaFiles;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every store must do, whatever database it runs on. Subclasses name the database; the
 * rules tested here are enforced by the database's keys, not by the node.
 */
abstract class StoreContract {

  @TempDir
  Path directory;

  JdbcStore store;

  /** The database configuration for one test; each test starts on an empty schema. */
  abstract DbConfig database() throws Exception;

  @BeforeEach
  void openStore() throws Exception {
    store = JdbcStore.open(database(), new CaFiles(directory));
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  static Issuance issuance(String instanceId, String tokenId, boolean trustOnFirstUse) {
    return issuance(instanceId, tokenId, trustOnFirstUse, "ab".repeat(32));
  }

  static Issuance issuance(String instanceId, String tokenId, boolean trustOnFirstUse,
      String keyFingerprint) {
    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    String serial = UUID.randomUUID().toString().replace("-", "");
    return new Issuance(serial, "aws-prod", instanceId, "123456789042", "app.internal",
        List.of("app.internal", "10.0.0.1"), now, now.plus(Duration.ofHours(24)),
        keyFingerprint, "-----BEGIN CERTIFICATE-----\n...", now, trustOnFirstUse, now,
        tokenId, now.plus(Duration.ofMinutes(5)));
  }

  /**
   * Returns a renewal of {@code renewed} for the key {@code keyFingerprint}: a renew or a rekey.
   */
  static Issuance renewal(Issuance renewed, String keyFingerprint) {
    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    return new Issuance(UUID.randomUUID().toString().replace("-", ""), renewed.provisioner(),
        renewed.instanceId(), renewed.account(), renewed.subject(), renewed.sans(), now,
        now.plus(Duration.ofHours(24)), keyFingerprint, "-----BEGIN CERTIFICATE-----\n...", now,
        false, null, null, null, renewed.attestedAt(), renewed.serial(), null);
  }

  @Test
  void recordedIssuanceIsFound() {
    Issuance issuance = issuance("i-0123456789abcdef0", "jti-1", true);

    store.record(issuance);

    CertificateRecord record = store.findCertificate(issuance.serial()).orElseThrow();
    assertThat(record.instanceId()).isEqualTo("i-0123456789abcdef0");
    assertThat(record.sans()).containsExactly("app.internal", "10.0.0.1");
    assertThat(record.notAfter()).isEqualTo(issuance.notAfter());
    Registration registration = store.findRegistration("aws-prod", "i-0123456789abcdef0")
        .orElseThrow();
    assertThat(registration.firstSerial()).isEqualTo(issuance.serial());
    assertThat(store.isTokenUsed("aws-prod", "jti-1")).isTrue();
  }

  @Test
  void repeatedIssuanceFindsEarlierCertificate() {
    Issuance first = issuance("i-1", "jti-1", true);
    store.record(first);
    Issuance repeat = issuance("i-1", "jti-1", true);

    CertificateRecord earlier = store.findRepeatedIssuance(repeat,
        first.issuedAt().minusSeconds(1)).orElseThrow();

    assertThat(earlier.serial()).isEqualTo(first.serial());
    assertThat(store.findRepeatedIssuance(repeat, first.issuedAt().plusMillis(1))).isEmpty();
  }

  @Test
  void repeatedIssuanceNeedsSameKeyNamesAndValidity() {
    Issuance first = issuance("i-1", "jti-1", true);
    store.record(first);
    Instant since = first.issuedAt().minusSeconds(1);
    Issuance otherKey = issuance("i-1", "jti-1", true, "cd".repeat(32));
    Issuance otherNames = new Issuance(first.serial() + "0", first.provisioner(),
        first.instanceId(), first.account(), first.subject(), List.of("app.internal"),
        first.notBefore(), first.notAfter(), first.keyFingerprint(),
        first.certificatePem(), first.issuedAt(), true, first.pendingTime(), "jti-1",
        first.tokenExpiry());
    Issuance afterExpiry = new Issuance(first.serial() + "1", first.provisioner(),
        first.instanceId(), first.account(), first.subject(), first.sans(),
        first.notBefore(), first.notAfter(), first.keyFingerprint(), first.certificatePem(),
        first.notAfter(), true, first.pendingTime(), "jti-1", first.tokenExpiry());

    assertThat(store.findRepeatedIssuance(otherKey, since)).isEmpty();
    assertThat(store.findRepeatedIssuance(otherNames, since)).isEmpty();
    assertThat(store.findRepeatedIssuance(afterExpiry, since)).isEmpty();
  }

  @Test
  void repeatedIssuanceSkipsRevokedAndRenewedCertificates() {
    Issuance first = issuance("i-1", "jti-1", true);
    store.record(first);
    Issuance renewal = renewal(first, first.keyFingerprint());
    store.record(renewal);
    Instant since = first.issuedAt().minusSeconds(1);
    Issuance repeat = issuance("i-1", "jti-1", true);

    assertThat(store.findRepeatedIssuance(repeat, since).orElseThrow().serial())
        .isEqualTo(first.serial());
    store.revoke(first.serial(), 4, "superseded", "operator", Instant.now());
    assertThat(store.findRepeatedIssuance(repeat, since)).isEmpty();
  }

  @Test
  void secondRegistrationIsDeniedAndWritesNothing() {
    store.record(issuance("i-1", "jti-1", true));

    assertThatThrownBy(() -> store.record(issuance("i-1", "jti-2", true)))
        .isInstanceOf(PolicyDeniedException.class)
        .hasMessageContaining("i-1").hasMessageContaining("already enrolled");
    assertThat(store.countCertificates()).isEqualTo(1);
    assertThat(store.isTokenUsed("aws-prod", "jti-2")).isFalse();
  }

  @Test
  void reusedTokenIdIsRejectedAndWritesNothing() {
    store.record(issuance("i-1", "jti-1", false));

    assertThatThrownBy(() -> store.record(issuance("i-2", "jti-1", true)))
        .isInstanceOf(IdentityRejectedException.class).hasMessageContaining("jti-1");
    assertThat(store.countCertificates()).isEqualTo(1);
    assertThat(store.findRegistration("aws-prod", "i-2")).isEmpty();
  }

  @Test
  void withoutTrustOnFirstUseInstanceEnrollsAgain() {
    store.record(issuance("i-1", "jti-1", false));
    store.record(issuance("i-1", "jti-2", false));

    assertThat(store.certificatesOf("aws-prod", "i-1")).hasSize(2);
    assertThat(store.registrations(null)).isEmpty();
  }

  @Test
  void concurrentFirstEnrollmentsRegisterOnce() throws Exception {
    int threads = 16;
    AtomicInteger denied = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Callable<Boolean>> attempts = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        String tokenId = "jti-" + i;
        attempts.add(() -> {
          try {
            store.record(issuance("i-raced", tokenId, true));
            return true;
          } catch (PolicyDeniedException e) {
            denied.incrementAndGet();
            return false;
          }
        });
      }
      int issued = 0;
      for (Future<Boolean> result : pool.invokeAll(attempts)) {
        issued += result.get() ? 1 : 0;
      }
      assertThat(issued).isEqualTo(1);
      assertThat(denied.get()).isEqualTo(threads - 1);
    } finally {
      pool.shutdownNow();
    }
    assertThat(store.certificatesOf("aws-prod", "i-raced")).hasSize(1);
  }

  @Test
  void expiredTokenIdsArePurged() {
    store.record(issuance("i-1", "jti-old", false));

    int purged = store.purgeExpiredTokens(Instant.now().plus(Duration.ofMinutes(10)));

    assertThat(purged).isEqualTo(1);
    assertThat(store.isTokenUsed("aws-prod", "jti-old")).isFalse();
    assertThat(store.countCertificates()).isEqualTo(1);
  }

  @Test
  void reopenedStoreKeepsRecords() throws Exception {
    Issuance issuance = issuance("i-1", "jti-1", true);
    store.record(issuance);
    store.close();

    store = JdbcStore.open(reopenConfig(), new CaFiles(directory));

    assertThat(store.findCertificate(issuance.serial())).isPresent();
    assertThat(store.isHealthy()).isTrue();
  }

  @Test
  void issuedNonceIsConsumedOnce() {
    Instant now = Instant.now();
    String nonce = store.issueNonce("azure-prod", now.plus(Duration.ofMinutes(5)));

    assertThat(nonce).matches("[0-9]{10}");
    assertThat(store.consumeNonce("azure-prod", nonce, now)).isTrue();
    assertThat(store.consumeNonce("azure-prod", nonce, now)).isFalse();
  }

  @Test
  void nonceOfOtherProvisionerIsNotConsumed() {
    Instant now = Instant.now();
    String nonce = store.issueNonce("azure-prod", now.plus(Duration.ofMinutes(5)));

    assertThat(store.consumeNonce("azure-other", nonce, now)).isFalse();
    assertThat(store.consumeNonce("azure-prod", nonce, now)).isTrue();
  }

  @Test
  void unknownNonceIsNotConsumed() {
    assertThat(store.consumeNonce("azure-prod", "0123456789", Instant.now())).isFalse();
  }

  @Test
  void expiredNonceIsNotConsumed() {
    Instant now = Instant.now();
    String nonce = store.issueNonce("azure-prod", now.plus(Duration.ofMinutes(5)));

    assertThat(store.consumeNonce("azure-prod", nonce, now.plus(Duration.ofMinutes(5))))
        .isFalse();
  }

  @Test
  void issuedNoncesDiffer() {
    Instant expiry = Instant.now().plus(Duration.ofMinutes(5));
    java.util.Set<String> nonces = new java.util.HashSet<>();

    for (int i = 0; i < 100; i++) {
      nonces.add(store.issueNonce("azure-prod", expiry));
    }

    assertThat(nonces).hasSize(100);
  }

  @Test
  void expiredNoncesArePurged() {
    Instant now = Instant.now();
    String old = store.issueNonce("azure-prod", now.minusSeconds(1));
    String fresh = store.issueNonce("azure-prod", now.plus(Duration.ofMinutes(5)));

    int purged = store.purgeExpiredNonces(now);

    assertThat(purged).isEqualTo(1);
    assertThat(store.consumeNonce("azure-prod", old, now.minusSeconds(10))).isFalse();
    assertThat(store.consumeNonce("azure-prod", fresh, now)).isTrue();
  }

  @Test
  void racingNodesConsumeNonceOnce() throws Exception {
    Instant now = Instant.now();
    int threads = 16;
    try (JdbcStore otherNode = JdbcStore.open(reopenConfig(), new CaFiles(directory))) {
      for (int round = 0; round < 5; round++) {
        String nonce = store.issueNonce("azure-prod", now.plus(Duration.ofMinutes(5)));
        List<Callable<Boolean>> attempts = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
          JdbcStore node = i % 2 == 0 ? store : otherNode;
          attempts.add(() -> node.consumeNonce("azure-prod", nonce, now));
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        int winners = 0;
        try {
          for (Future<Boolean> result : pool.invokeAll(attempts)) {
            winners += result.get() ? 1 : 0;
          }
        } finally {
          pool.shutdownNow();
        }
        assertThat(winners).as("consumers of nonce %s that won", nonce).isEqualTo(1);
      }
    }
  }

  // Keys revoked for keyCompromise.

  static final String COMPROMISED_KEY = "c0".repeat(32);
  static final String OTHER_KEY = "0f".repeat(32);

  @Test
  void keyCompromiseIsFoundByKey() {
    Issuance compromised = issuance("i-1", "jti-1", false, COMPROMISED_KEY);
    store.record(compromised);
    store.record(issuance("i-2", "jti-2", false, OTHER_KEY));
    Instant revokedAt = Instant.now().truncatedTo(ChronoUnit.MILLIS);

    store.revoke(compromised.serial(), Revocation.KEY_COMPROMISE, "key leaked", "operator",
        revokedAt);

    Revocation found = store.findKeyCompromise(COMPROMISED_KEY).orElseThrow();
    assertThat(found.serial()).isEqualTo(compromised.serial());
    assertThat(found.revokedAt()).isEqualTo(revokedAt);
    assertThat(store.findKeyCompromise(OTHER_KEY)).isEmpty();
  }

  /** The CRLReasons of RFC 5280 other than keyCompromise (1) and the unassigned 7. */
  static final int[] OTHER_REASONS = {0, 2, 3, 4, 5, 6, 8, 9, 10};

  @Test
  void otherReasonsDoNotCompromiseKey() {
    for (int reasonCode : OTHER_REASONS) {
      String key = String.format("%064x", reasonCode);
      Issuance revoked = issuance("i-" + reasonCode, "jti-" + reasonCode, false, key);
      Issuance sibling = issuance("i-" + reasonCode, "jti-sibling-" + reasonCode, false, key);
      store.record(revoked);
      store.record(sibling);
      store.revoke(revoked.serial(), reasonCode, "", "operator", Instant.now());
      Issuance renewal = renewal(sibling, key);

      store.record(renewal);

      assertThat(store.findKeyCompromise(key)).as("reason %d", reasonCode).isEmpty();
      assertThat(store.findCertificate(renewal.serial())).as("reason %d", reasonCode)
          .isPresent();
    }
  }

  /**
   * The record stage checks a renewal's key inside its transaction, for a revocation that
   * committed after the renew stage had checked it.
   */
  @Test
  void renewalWithCompromisedKeyIsDeniedAtRecord() {
    Issuance first = issuance("i-1", "jti-1", false, COMPROMISED_KEY);
    Issuance second = issuance("i-1", "jti-2", false, COMPROMISED_KEY);
    store.record(first);
    store.record(second);
    store.revoke(second.serial(), Revocation.KEY_COMPROMISE, "key leaked", "operator",
        Instant.now());
    Issuance renewal = renewal(first, COMPROMISED_KEY);

    assertThatThrownBy(() -> store.record(renewal))
        .isInstanceOf(PolicyDeniedException.class)
        .hasMessageContaining("certificate " + second.serial() + " with this key was revoked"
            + " for keyCompromise")
        .hasMessageContaining("rekey with a new key");
    assertThat(store.findCertificate(renewal.serial())).isEmpty();
  }

  @Test
  void rekeyToCompromisedKeyIsDeniedAtRecord() {
    Issuance compromised = issuance("i-1", "jti-1", false, COMPROMISED_KEY);
    Issuance held = issuance("i-2", "jti-2", false, OTHER_KEY);
    store.record(compromised);
    store.record(held);
    store.revoke(compromised.serial(), Revocation.KEY_COMPROMISE, "", "operator",
        Instant.now());
    Issuance toCompromised = renewal(held, COMPROMISED_KEY);
    Issuance toOther = renewal(held, "1e".repeat(32));

    assertThatThrownBy(() -> store.record(toCompromised))
        .isInstanceOf(PolicyDeniedException.class)
        .hasMessageContaining(compromised.serial());
    store.record(toOther);

    assertThat(store.findCertificate(toCompromised.serial())).isEmpty();
    assertThat(store.findCertificate(toOther.serial())).isPresent();
  }

  /**
   * Version 4 fills the key of each revocation that an earlier version recorded, from its
   * certificate, so that keys revoked for keyCompromise before the upgrade stay revoked.
   */
  @Test
  void migrationFillsKeysOfEarlierRevocations() throws Exception {
    store.close();
    DbConfig version3 = emptyDatabase();
    CaFiles files = new CaFiles(directory);
    try (HikariDataSource pool = JdbcStore.dataSource(version3, files)) {
      Flyway.configure(JdbcStore.class.getClassLoader()).dataSource(pool)
          .locations("classpath:io/iidca/ca/store/migration").target("3").load().migrate();
      try (Connection connection = pool.getConnection()) {
        insertVersion3Certificate(connection, "0a", COMPROMISED_KEY);
        insertVersion3Certificate(connection, "0b", COMPROMISED_KEY);
        insertVersion3Certificate(connection, "0c", OTHER_KEY);
        insertVersion3Revocation(connection, "0a", Revocation.KEY_COMPROMISE);
        insertVersion3Revocation(connection, "0c", 4);
      }
    }

    store = JdbcStore.open(version3, files);

    assertThat(store.findKeyCompromise(COMPROMISED_KEY)).map(Revocation::serial)
        .hasValue("0a");
    assertThat(store.findKeyCompromise(OTHER_KEY)).isEmpty();
    assertThat(store.revocations()).extracting(Revocation::serial)
        .containsExactlyInAnyOrder("0a", "0c");
    try (HikariDataSource pool = JdbcStore.dataSource(version3, files);
        Connection connection = pool.getConnection();
        var rows = connection.createStatement().executeQuery(
            "SELECT serial, key_fingerprint FROM revocations ORDER BY serial")) {
      assertThat(rows.next()).isTrue();
      assertThat(rows.getString(2)).as("key of revocation 0a").isEqualTo(COMPROMISED_KEY);
      assertThat(rows.next()).isTrue();
      assertThat(rows.getString(2)).as("key of revocation 0c").isEqualTo(OTHER_KEY);
    }
  }

  private static void insertVersion3Certificate(Connection connection, String serial,
      String keyFingerprint) throws Exception {
    Timestamp now = Timestamp.from(Instant.now());
    try (PreparedStatement statement = connection.prepareStatement("INSERT INTO certificates"
        + " (serial, provisioner, instance_id, account, subject, sans, not_before, not_after,"
        + " key_fingerprint, certificate_pem, issued_at, attested_at, renewed_from)"
        + " VALUES (?, 'aws-prod', 'i-1', '123456789042', 'app.internal', 'app.internal\n',"
        + " ?, ?, ?, '-----BEGIN CERTIFICATE-----', ?, ?, NULL)")) {
      statement.setString(1, serial);
      statement.setTimestamp(2, now);
      statement.setTimestamp(3, now);
      statement.setString(4, keyFingerprint);
      statement.setTimestamp(5, now);
      statement.setTimestamp(6, now);
      statement.executeUpdate();
    }
  }

  private static void insertVersion3Revocation(Connection connection, String serial,
      int reasonCode) throws Exception {
    try (PreparedStatement statement = connection.prepareStatement("INSERT INTO revocations"
        + " (serial, revoked_at, reason_code, reason, revoked_by) VALUES (?, ?, ?, '',"
        + " 'operator')")) {
      statement.setString(1, serial);
      statement.setTimestamp(2, Timestamp.from(Instant.now()));
      statement.setInt(3, reasonCode);
      statement.executeUpdate();
    }
  }

  // Group commit: several issuances in one transaction, each decided as if alone.

  @Test
  void groupDecidesEachIssuanceAlone() throws Exception {
    Issuance first = issuance("i-1", "jti-1", true);
    Issuance replay = issuance("i-2", "jti-1", true);
    Issuance second = issuance("i-1", "jti-3", true);
    Issuance other = issuance("i-4", "jti-4", true);

    List<Throwable> outcomes = recordAsOneGroup(List.of(first, replay, second, other),
        gated -> {});

    assertThat(outcomes.get(0)).isNull();
    assertThat(outcomes.get(1)).isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("jti-1");
    assertThat(outcomes.get(2)).isInstanceOf(PolicyDeniedException.class)
        .hasMessageContaining("i-1").hasMessageContaining("already enrolled");
    assertThat(outcomes.get(3)).isNull();
    assertThat(gatedSource.commits()).as("commits: the blocking issuance's, then the group's")
        .isEqualTo(2);
    assertThat(gatedSource.rollbacks()).as("rollbacks: the group's batch, which conflicted")
        .isEqualTo(1);
    assertThat(store.findCertificate(first.serial())).isPresent();
    assertThat(store.findCertificate(replay.serial())).isEmpty();
    assertThat(store.findCertificate(second.serial())).isEmpty();
    assertThat(store.findCertificate(other.serial())).isPresent();
    assertThat(store.findRegistration("aws-prod", "i-1").orElseThrow().firstSerial())
        .isEqualTo(first.serial());
    assertThat(store.findRegistration("aws-prod", "i-2")).isEmpty();
    assertThat(store.isTokenUsed("aws-prod", "jti-3")).isFalse();
  }

  @Test
  void groupWithoutConflictsIsCommittedOnce() throws Exception {
    List<Issuance> group = List.of(issuance("i-1", "jti-1", true),
        issuance("i-2", "jti-2", true), issuance("i-3", null, false));

    List<Throwable> outcomes = recordAsOneGroup(group, gated -> {});

    assertThat(outcomes).containsOnlyNulls();
    assertThat(gatedSource.commits()).isEqualTo(2);
    assertThat(gatedSource.rollbacks()).isZero();
    assertThat(store.countCertificates()).isEqualTo(4);
    assertThat(store.registrations(null)).extracting(Registration::instanceId)
        .containsExactlyInAnyOrder("i-1", "i-2");
    assertThat(store.isTokenUsed("aws-prod", "jti-2")).isTrue();
  }

  @Test
  void faultyIssuanceFailsAlone() throws Exception {
    Issuance good = issuance("i-1", "jti-1", true);
    Issuance faulty = new Issuance(UUID.randomUUID().toString().replace("-", ""), "aws-prod",
        "i-2", "123456789042", "app.internal", List.of("bad\nname"), good.notBefore(),
        good.notAfter(), "ab".repeat(32), "-----BEGIN CERTIFICATE-----\n...", good.issuedAt(),
        true, good.attestedAt(), "jti-2", good.tokenExpiry());
    Issuance after = issuance("i-3", "jti-3", true);

    List<Throwable> outcomes = recordAsOneGroup(List.of(good, faulty, after), gated -> {});

    assertThat(outcomes.get(0)).isNull();
    assertThat(outcomes.get(1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("line feed");
    assertThat(outcomes.get(2)).isNull();
    assertThat(store.findCertificate(good.serial())).isPresent();
    assertThat(store.findCertificate(faulty.serial())).isEmpty();
    assertThat(store.findRegistration("aws-prod", "i-2")).isEmpty();
    assertThat(store.isTokenUsed("aws-prod", "jti-2")).isFalse();
    assertThat(store.findCertificate(after.serial())).isPresent();
    assertThat(gatedSource.commits()).as("the blocking issuance, then good and after alone")
        .isEqualTo(3);
  }

  @Test
  void failedCommitFailsWholeGroup() throws Exception {
    List<Issuance> group = List.of(issuance("i-1", "jti-1", true),
        issuance("i-2", "jti-2", true), issuance("i-3", "jti-3", false));

    List<Throwable> outcomes = recordAsOneGroup(group, GatedDataSource::failCommits);

    assertThat(outcomes).hasSize(3).allSatisfy(failure -> assertThat(failure)
        .isInstanceOf(UnavailableException.class).hasMessageContaining("connection lost"));
    assertThat(store.countCertificates()).as("certificates, the blocking one's included")
        .isZero();
    assertThat(store.registrations(null)).isEmpty();
  }

  @Test
  void callerWaitsForCommit() throws Exception {
    Issuance issuance = issuance("i-1", "jti-1", true);
    ExecutorService caller = Executors.newSingleThreadExecutor();
    try (HikariDataSource pool = JdbcStore.dataSource(reopenConfig(), new CaFiles(directory));
        GroupCommit commits = new GroupCommit(gated(pool), 64, 1, "test-commit")) {
      gatedSource.holdCommits();
      Future<?> outcome = caller.submit(() -> commits.record(issuance));

      assertThat(gatedSource.awaitHeldAtCommit()).isTrue();
      assertThat(outcome.isDone()).as("returned while its commit is blocked").isFalse();
      gatedSource.release();
      outcome.get(30, TimeUnit.SECONDS);
    } finally {
      caller.shutdownNow();
    }
    assertThat(store.findCertificate(issuance.serial())).isPresent();
  }

  @Test
  void callerOfQueuedIssuanceAbandonsIt() throws Exception {
    Issuance taken = issuance("i-1", "jti-1", true);
    Issuance queued = issuance("i-2", "jti-2", true);
    ExecutorService callers = Executors.newCachedThreadPool();
    Throwable queuedFailure;
    Throwable takenFailure;
    try (HikariDataSource pool = JdbcStore.dataSource(reopenConfig(), new CaFiles(directory));
        GroupCommit commits = new GroupCommit(gated(pool), 64, 1, "test-commit",
            Duration.ofMillis(300))) {
      gatedSource.holdConnections();
      Future<?> takenOutcome = callers.submit(() -> commits.record(taken));
      assertThat(gatedSource.awaitHeldAtConnection()).isTrue();
      Future<?> queuedOutcome = callers.submit(() -> commits.record(queued));

      queuedFailure = outcome(queuedOutcome);
      Thread.sleep(600);
      assertThat(takenOutcome.isDone()).as("caller of the issuance being committed returned")
          .isFalse();
      gatedSource.release();
      takenFailure = outcome(takenOutcome);
    } finally {
      callers.shutdownNow();
    }
    assertThat(queuedFailure).isInstanceOf(UnavailableException.class)
        .hasMessageContaining("did not start within");
    assertThat(takenFailure).isNull();
    assertThat(store.findCertificate(taken.serial())).isPresent();
    assertThat(store.findCertificate(queued.serial())).as("certificate whose caller got 503")
        .isEmpty();
    assertThat(store.findRegistration("aws-prod", "i-2"))
        .as("registration of an issuance whose caller got 503").isEmpty();
  }

  @Test
  void lostConnectionFailsGroupAtOnce() throws Exception {
    List<Issuance> group = List.of(issuance("i-1", "jti-1", true),
        issuance("i-2", "jti-2", true), issuance("i-3", "jti-3", false));

    List<Throwable> outcomes = recordAsOneGroup(group, GatedDataSource::failStatements);

    assertThat(outcomes).hasSize(3).allSatisfy(failure -> assertThat(failure)
        .isInstanceOf(UnavailableException.class).hasMessageContaining("connection lost"));
    assertThat(gatedSource.connections())
        .as("connections: the blocking issuance's and the group's, none per issuance")
        .isEqualTo(2);
    assertThat(store.countCertificates()).as("certificates, the blocking one's included")
        .isZero();
  }

  @Test
  void closeStopsCommitters() throws Exception {
    try (HikariDataSource pool = JdbcStore.dataSource(reopenConfig(), new CaFiles(directory))) {
      GroupCommit commits = new GroupCommit(gated(pool), 64, 4, "test-commit");
      commits.record(issuance("i-1", "jti-1", true));
      commits.close();

      assertThat(commits.stopped()).isTrue();
      assertThatThrownBy(() -> commits.record(issuance("i-2", "jti-2", true)))
          .isInstanceOf(UnavailableException.class).hasMessageContaining("closing");
    }
    assertThat(store.countCertificates()).isEqualTo(1);
  }

  @Test
  void concurrentCommittersRegisterOnce() throws Exception {
    int instances = 40;
    List<String> outcomes = new ArrayList<>();
    ExecutorService callers = Executors.newFixedThreadPool(32);
    try (HikariDataSource pool = JdbcStore.dataSource(reopenConfig(), new CaFiles(directory));
        GroupCommit commits = new GroupCommit(pool, 64, 4, "test-commit")) {
      List<Callable<String>> attempts = new ArrayList<>();
      for (int i = 0; i < instances * 5; i++) {
        String instanceId = "i-" + (i % instances);
        // The fifth round replays the tokens of the first.
        String tokenId = "jti-" + (i < instances * 4 ? i : i % instances);
        attempts.add(() -> {
          try {
            commits.record(issuance(instanceId, tokenId, true));
            return "recorded";
          } catch (PolicyDeniedException e) {
            return "denied";
          } catch (IdentityRejectedException e) {
            return "replay";
          }
        });
      }
      for (Future<String> outcome : callers.invokeAll(attempts)) {
        outcomes.add(outcome.get());
      }
    } finally {
      callers.shutdownNow();
    }
    assertThat(outcomes.stream().filter("recorded"::equals).count()).isEqualTo(instances);
    assertThat(outcomes.stream().filter("denied"::equals).count())
        .as("second enrollments, replays included: the registration is checked first")
        .isEqualTo(instances * 4L);
    assertThat(store.countCertificates()).isEqualTo(instances);
    assertThat(store.registrations(null)).hasSize(instances)
        .allSatisfy(registration -> assertThat(registration.enrollments()).isEqualTo(1));
  }

  GatedDataSource gatedSource;

  private GatedDataSource gated(HikariDataSource pool) {
    gatedSource = new GatedDataSource(pool);
    return gatedSource;
  }

  /**
   * Records a blocking issuance first, queues {@code group} behind it one by one while the
   * committer waits for its connection, applies {@code beforeRelease}, and returns each
   * member's failure, or null where it was recorded.
   */
  private List<Throwable> recordAsOneGroup(List<Issuance> group,
      java.util.function.Consumer<GatedDataSource> beforeRelease) throws Exception {
    ExecutorService callers = Executors.newCachedThreadPool();
    try (HikariDataSource pool = JdbcStore.dataSource(reopenConfig(), new CaFiles(directory));
        GroupCommit commits = new GroupCommit(gated(pool), 64, 1, "test-commit")) {
      gatedSource.holdConnections();
      Issuance blocker = issuance("i-blocker", "jti-blocker", false);
      Future<?> blockerOutcome = callers.submit(() -> commits.record(blocker));
      assertThat(gatedSource.awaitHeldAtConnection()).isTrue();
      List<Future<?>> futures = new ArrayList<>();
      for (Issuance issuance : group) {
        futures.add(callers.submit(() -> commits.record(issuance)));
        awaitQueued(commits, futures.size());
      }
      beforeRelease.accept(gatedSource);
      gatedSource.release();
      Throwable blockerFailure = outcome(blockerOutcome);
      assertThat(blockerFailure == null || blockerFailure instanceof UnavailableException)
          .as("outcome of the blocking issuance: %s", blockerFailure).isTrue();
      List<Throwable> outcomes = new ArrayList<>();
      for (Future<?> future : futures) {
        outcomes.add(outcome(future));
      }
      return outcomes;
    } finally {
      callers.shutdownNow();
    }
  }

  private static Throwable outcome(Future<?> future) throws Exception {
    try {
      future.get(30, TimeUnit.SECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  private static void awaitQueued(GroupCommit commits, int expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (commits.queued() < expected) {
      assertThat(System.nanoTime()).as("time waiting for %d queued issuances", expected)
          .isLessThan(deadline);
      Thread.sleep(1);
    }
  }

  /** The configuration that reaches the same database again. */
  abstract DbConfig reopenConfig();

  /** A configuration that reaches a database without any schema, after the store closed. */
  abstract DbConfig emptyDatabase() throws Exception;
}
