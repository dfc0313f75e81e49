package io.iidca.ca.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.ca.config.DbConfig;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.PolicyDeniedException;
import io.iidca.ca.pki.CaFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
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
    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    String serial = UUID.randomUUID().toString().replace("-", "");
    return new Issuance(serial, "aws-prod", instanceId, "123456789042", "app.internal",
        List.of("app.internal", "10.0.0.1"), now, now.plus(Duration.ofHours(24)),
        "ab".repeat(32), "-----BEGIN CERTIFICATE-----\n...", now, trustOnFirstUse, now,
        tokenId, now.plus(Duration.ofMinutes(5)));
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

  /** The configuration that reaches the same database again. */
  abstract DbConfig reopenConfig();
}
