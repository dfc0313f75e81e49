package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.ca.pki.KeyFiles;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Pem;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.util.List;
import org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link ClientKeys#read}: the unencrypted PKCS#8 keys that the client writes come back as the
 * same key in a class that is not Bouncy Castle's and match their public key, a SEC1 key goes
 * through {@link KeyFiles}, and a file without a key is rejected.
 */
class ClientKeysTest {

  @TempDir
  Path directory;

  @ParameterizedTest(name = "{0} {1} {2}")
  @CsvSource({
      "EC, P-256, , EC",
      "EC, P-384, , EC",
      "RSA, , 2048, RSA",
      "OKP, Ed25519, , EdDSA",
  })
  void pkcs8KeyReadsWithJdkProvider(String kty, String curve, Integer size,
      String expectedAlgorithm) throws Exception {
    KeyPair keys = KeySpec.of(kty, curve, size).generate();
    Path file = directory.resolve("key.pem");
    KeyFiles.writePlain(file, keys.getPrivate());

    PrivateKey key = ClientKeys.read(file);

    assertThat(key.getAlgorithm()).isEqualTo(expectedAlgorithm);
    assertThat(key.getClass().getName()).doesNotStartWith("org.bouncycastle.");
    assertThat(signsFor(keys, key)).isTrue();
  }

  /** The check that {@code iidca certificate --force} makes before it presents a pair. */
  @ParameterizedTest(name = "{0} {1} {2}")
  @CsvSource({
      "EC, P-256, ",
      "RSA, , 2048",
      "OKP, Ed25519, ",
  })
  void readKeyMatchesOnlyItsPublicKey(String kty, String curve, Integer size)
      throws Exception {
    KeyPair keys = KeySpec.of(kty, curve, size).generate();
    KeyPair other = KeySpec.of(kty, curve, size).generate();
    Path file = directory.resolve("key.pem");
    KeyFiles.writePlain(file, keys.getPrivate());

    PrivateKey key = ClientKeys.read(file);

    assertThat(Renewer.matches(key, keys.getPublic(), null)).isTrue();
    assertThat(Renewer.matches(key, other.getPublic(), null)).isFalse();
  }

  @Test
  void sec1KeyFallsBackToKeyFiles() throws Exception {
    KeyPair keys = KeySpec.EC_P256.generate();
    Path file = directory.resolve("sec1.pem");
    // JcaMiscPEMGenerator writes an EC key pair as a SEC1 "EC PRIVATE KEY" block.
    Files.writeString(file, Pem.encode(new JcaMiscPEMGenerator(keys)),
        StandardCharsets.US_ASCII);

    PrivateKey key = ClientKeys.read(file);

    assertThat(Files.readString(file)).startsWith("-----BEGIN EC PRIVATE KEY-----");
    assertThat(signsFor(keys, key)).isTrue();
  }

  @Test
  void certificateFileIsRejected() throws Exception {
    Path file = directory.resolve("not-a-key.pem");
    Files.writeString(file, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        StandardCharsets.US_ASCII);

    assertThatThrownBy(() -> ClientKeys.read(file))
        .isInstanceOf(GeneralSecurityException.class)
        .hasMessageContaining(file.toString());
  }

  /** Returns whether a CSR signed with {@code key} verifies with the public key of keys. */
  private static boolean signsFor(KeyPair keys, PrivateKey key) throws Exception {
    PKCS10CertificationRequest csr = Pem.parseCsr(
        CsrBuilder.build(new KeyPair(keys.getPublic(), key), "app.internal", List.of()));
    return csr.isSignatureValid(new JcaContentVerifierProviderBuilder()
        .build(csr.getSubjectPublicKeyInfo()));
  }
}
