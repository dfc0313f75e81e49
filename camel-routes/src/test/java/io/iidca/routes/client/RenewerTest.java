package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.ca.io.AtomicFiles;
import io.iidca.ca.pki.KeyFiles;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Pem;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * One renewal against a real CA over mutual TLS: what is written, in which modes, what is left
 * untouched on rejection, and how an interrupted rekey is completed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RenewerTest {

  @TempDir
  static Path caDirectory;
  @TempDir
  static Path parent;

  /** This test's own directory, because the class shares one instance for all tests. */
  Path directory;

  RenewalCa ca;
  Path crt;
  Path key;
  List<String> progress = new ArrayList<>();

  @BeforeAll
  void startCa() throws Exception {
    ca = RenewalCa.start(caDirectory);
  }

  @AfterAll
  void stopCa() {
    ca.close();
  }

  @BeforeEach
  void files() throws Exception {
    directory = Files.createTempDirectory(parent, "renew");
    crt = directory.resolve("app.crt");
    key = directory.resolve("app.key");
    progress.clear();
  }

  Renewer renewer(boolean rekey) {
    return new Renewer(ca.url(), ca.root(), crt, key, rekey, Clock.systemUTC(), progress::add);
  }

  @SuppressWarnings("try") // the lock is held for the block, never referenced
  Renewer.Renewal renew(Renewer renewer) throws Exception {
    try (Renewer.Lock lock = renewer.lock()) {
      Renewer.Renewal renewal = renewer.request(renewer.read());
      renewer.write(renewal);
      return renewal;
    }
  }

  @Test
  void renewKeepsKeyAndReplacesChain() throws Exception {
    X509Certificate enrolled = ca.enroll(crt, key, "24h", KeySpec.EC_P256);
    byte[] keyBefore = Files.readAllBytes(key);

    renew(renewer(false));

    List<X509Certificate> chain = Pem.readCertificates(crt);
    assertThat(chain).hasSize(2);
    assertThat(chain.get(0).getSerialNumber()).isNotEqualTo(enrolled.getSerialNumber());
    assertThat(chain.get(0).getPublicKey()).isEqualTo(enrolled.getPublicKey());
    assertThat(chain.get(0).getSubjectX500Principal())
        .isEqualTo(enrolled.getSubjectX500Principal());
    assertThat(Files.readAllBytes(key)).isEqualTo(keyBefore);
    assertThat(Files.getPosixFilePermissions(crt)).isEqualTo(AtomicFiles.PUBLIC);
    assertThat(progress).containsExactly("Certificate: " + crt.toAbsolutePath());
    assertThat(hiddenFiles()).containsExactly("." + key.getFileName() + ".lock");
  }

  @ParameterizedTest(name = "rekey {0} {1} {2}")
  @CsvSource({"EC, P-256, 0", "EC, P-384, 0", "RSA, , 2048", "OKP, Ed25519, 0"})
  void rekeyKeepsKeyTypeAndMatchesCertificate(String kty, String curve, int size)
      throws Exception {
    KeySpec spec = KeySpec.of(kty, curve, size == 0 ? null : size);
    X509Certificate enrolled = ca.enroll(crt, key, "24h", spec);
    PrivateKey oldKey = KeyFiles.read(key, null);

    Renewer.Renewal renewal = renew(renewer(true));

    X509Certificate renewed = Pem.readCertificate(crt);
    PrivateKey newKey = KeyFiles.read(key, null);
    assertThat(renewal.newKeys()).isNotNull();
    assertThat(renewed.getPublicKey()).isNotEqualTo(enrolled.getPublicKey());
    assertThat(Renewer.keySpecOf(renewed.getPublicKey())).isEqualTo(spec);
    assertThat(Renewer.matches(newKey, renewed.getPublicKey())).isTrue();
    assertThat(Renewer.matches(oldKey, renewed.getPublicKey())).isFalse();
    assertThat(Files.getPosixFilePermissions(key)).isEqualTo(AtomicFiles.PRIVATE);
    assertThat(Files.getPosixFilePermissions(crt)).isEqualTo(AtomicFiles.PUBLIC);
    assertThat(progress).containsExactly("Certificate: " + crt.toAbsolutePath(),
        "Private Key: " + key.toAbsolutePath());
    assertThat(hiddenFiles()).containsExactly("." + key.getFileName() + ".lock");
  }

  @Test
  void interruptedRekeyIsCompletedOnRead() throws Exception {
    ca.enroll(crt, key, "24h", KeySpec.EC_P256);
    Renewer renewer = renewer(true);
    Renewer.Renewal renewal = renewer.request(renewer.read());
    // The state after a crash between the two renames: new chain, old key, pending new key.
    KeyFiles.writePlain(Renewer.sibling(key.toAbsolutePath(), ".new"),
        renewal.newKeys().getPrivate());
    AtomicFiles.write(crt, Pem.encodeChain(renewal.chain()).getBytes(StandardCharsets.US_ASCII),
        AtomicFiles.PUBLIC);

    Renewer.Held held = renewer.read();

    assertThat(held.certificate().getSerialNumber())
        .isEqualTo(renewal.certificate().getSerialNumber());
    assertThat(Renewer.matches(KeyFiles.read(key, null), renewal.certificate().getPublicKey()))
        .isTrue();
    assertThat(progress).containsExactly("Completed an interrupted rekey: "
        + key.toAbsolutePath());
    assertThat(hiddenFiles()).isEmpty();
  }

  @Test
  void uncertifiedPendingKeyIsDeleted() throws Exception {
    ca.enroll(crt, key, "24h", KeySpec.EC_P256);
    byte[] keyBefore = Files.readAllBytes(key);
    Path pending = Renewer.sibling(key.toAbsolutePath(), ".new");
    KeyFiles.writePlain(pending, KeySpec.EC_P256.generate().getPrivate());

    renewer(false).read();

    assertThat(pending).doesNotExist();
    assertThat(Files.readAllBytes(key)).isEqualTo(keyBefore);
  }

  @Test
  void foreignKeyIsRejectedBeforeAnyRequest() throws Exception {
    X509Certificate enrolled = ca.enroll(crt, key, "24h", KeySpec.EC_P256);
    KeyFiles.writePlain(key, KeySpec.EC_P256.generate().getPrivate());

    assertThatThrownBy(() -> renewer(false).read())
        .isInstanceOf(GeneralSecurityException.class)
        .hasMessageContaining(key.toAbsolutePath() + " does not match the certificate in "
            + crt.toAbsolutePath() + " (serial " + Renewer.serial(enrolled) + ")");
  }

  @Test
  void leafWithoutIntermediateIsRejected() throws Exception {
    X509Certificate enrolled = ca.enroll(crt, key, "24h", KeySpec.EC_P256);
    AtomicFiles.write(crt, Pem.encodeChain(List.of(enrolled)).getBytes(StandardCharsets.US_ASCII),
        AtomicFiles.PUBLIC);

    assertThatThrownBy(() -> renewer(false).read())
        .isInstanceOf(GeneralSecurityException.class)
        .hasMessageContaining("contains 1 certificate, expected the certificate and its"
            + " intermediate");
  }

  @Test
  void revokedCertificateLeavesFilesUntouched() throws Exception {
    X509Certificate enrolled = ca.enroll(crt, key, "24h", KeySpec.EC_P256);
    ca.revoke(enrolled);
    byte[] crtBefore = Files.readAllBytes(crt);
    byte[] keyBefore = Files.readAllBytes(key);

    for (boolean rekey : new boolean[] {false, true}) {
      Renewer renewer = renewer(rekey);
      assertThatThrownBy(() -> renew(renewer))
          .isInstanceOfSatisfying(Renewer.RenewalException.class,
              e -> assertThat(e.status()).isEqualTo(403))
          .hasMessageContaining("(HTTP 403)")
          .hasMessageContaining("revoked");
    }

    assertThat(Files.readAllBytes(crt)).isEqualTo(crtBefore);
    assertThat(Files.readAllBytes(key)).isEqualTo(keyBefore);
    assertThat(hiddenFiles()).containsExactly("." + key.getFileName() + ".lock");
  }

  @Test
  void lockFileIsPrivate() throws Exception {
    ca.enroll(crt, key, "24h", KeySpec.EC_P256);

    try (Renewer.Lock lock = renewer(false).lock()) {
      assertThat(Files.getPosixFilePermissions(Renewer.sibling(key.toAbsolutePath(), ".lock")))
          .isEqualTo(PosixFilePermissions.fromString("rw-------"));
      lock.close();
      // A second lock in this JVM would throw OverlappingFileLockException if the first held.
      renewer(false).lock().close();
    }
  }

  /** Hidden files beside the certificate and key: locks, pending keys and temporary files. */
  List<String> hiddenFiles() throws Exception {
    try (Stream<Path> files = Files.list(directory)) {
      return files.map(file -> file.getFileName().toString())
          .filter(name -> name.startsWith("."))
          .sorted()
          .toList();
    }
  }
}
