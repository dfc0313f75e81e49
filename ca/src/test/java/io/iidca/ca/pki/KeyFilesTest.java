package io.iidca.ca.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.time.Instant;
import java.util.stream.Stream;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PBES2Parameters;
import org.bouncycastle.asn1.pkcs.PBKDF2Params;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link KeyFiles}: keys survive a write and a read, files are owner-only, the encryption is
 * the documented PBES2, and every unreadable file is a {@link GeneralSecurityException} with a
 * clear message.
 */
class KeyFilesTest {

  static final char[] PASSWORD = "correct horse".toCharArray();

  @TempDir
  Path directory;

  static Stream<Arguments> keys() {
    return Stream.of(
        Arguments.of("EC P-256", KeySpec.EC_P256.generate()),
        Arguments.of("RSA 2048", KeySpec.of("RSA", null, 2048).generate()),
        Arguments.of("Ed25519", KeySpec.of("OKP", null, null).generate()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("keys")
  void encryptedKeyRoundTrips(String name, KeyPair keys) throws Exception {
    Path file = directory.resolve("key.pem");

    KeyFiles.writeEncrypted(file, keys.getPrivate(), PASSWORD);
    PrivateKey read = KeyFiles.read(file, PASSWORD);

    assertThat(read.getEncoded()).isEqualTo(keys.getPrivate().getEncoded());
    assertThat(mode(file)).isEqualTo("rw-------");
    assertThat(Files.readString(file)).startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("keys")
  void plainKeyRoundTrips(String name, KeyPair keys) throws Exception {
    Path file = directory.resolve("key.pem");

    KeyFiles.writePlain(file, keys.getPrivate());

    assertThat(KeyFiles.read(file, null).getEncoded())
        .isEqualTo(keys.getPrivate().getEncoded());
    assertThat(mode(file)).isEqualTo("rw-------");
    assertThat(Files.readString(file)).startsWith("-----BEGIN PRIVATE KEY-----\n");
  }

  @Test
  void overwriteNarrowsModeOfExistingFile() throws Exception {
    Path file = directory.resolve("key.pem");
    Files.writeString(file, "old");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-rw-"));

    KeyFiles.writePlain(file, KeySpec.EC_P256.generate().getPrivate());

    assertThat(mode(file)).isEqualTo("rw-------");
  }

  /** RFC 8018 PBES2 with PBKDF2-HMAC-SHA256, 600,000 iterations and AES-256-CBC. */
  @Test
  void encryptionIsPbes2AsDocumented() throws Exception {
    Path file = directory.resolve("key.pem");
    KeyFiles.writeEncrypted(file, KeySpec.EC_P256.generate().getPrivate(), PASSWORD);

    PKCS8EncryptedPrivateKeyInfo info;
    try (PEMParser parser = new PEMParser(new StringReader(Files.readString(file)))) {
      info = (PKCS8EncryptedPrivateKeyInfo) parser.readObject();
    }

    var algorithm = info.getEncryptionAlgorithm();
    assertThat(algorithm.getAlgorithm()).isEqualTo(PKCSObjectIdentifiers.id_PBES2);
    PBES2Parameters parameters = PBES2Parameters.getInstance(algorithm.getParameters());
    assertThat(parameters.getKeyDerivationFunc().getAlgorithm())
        .isEqualTo(PKCSObjectIdentifiers.id_PBKDF2);
    PBKDF2Params kdf = PBKDF2Params.getInstance(parameters.getKeyDerivationFunc()
        .getParameters());
    assertThat(kdf.getIterationCount().intValue()).isEqualTo(600_000);
    assertThat(kdf.getPrf().getAlgorithm()).isEqualTo(PKCSObjectIdentifiers.id_hmacWithSHA256);
    assertThat(kdf.getSalt()).hasSizeGreaterThanOrEqualTo(16);
    assertThat(parameters.getEncryptionScheme().getAlgorithm())
        .isEqualTo(NISTObjectIdentifiers.id_aes256_CBC);
  }

  @Test
  void wrongPasswordIsClearSecurityError() throws Exception {
    Path file = directory.resolve("key.pem");
    KeyFiles.writeEncrypted(file, KeySpec.EC_P256.generate().getPrivate(), PASSWORD);

    for (String wrong : new String[] {"correct horsf", "", "CORRECT HORSE"}) {
      Throwable error = catchThrowable(() -> KeyFiles.read(file, wrong.toCharArray()));
      assertThat(error).as(wrong).isInstanceOf(GeneralSecurityException.class)
          .hasMessage("cannot decrypt " + file + ": the password is wrong or the file is"
              + " damaged");
    }
  }

  @Test
  void missingPasswordForEncryptedKeyIsNamed() throws Exception {
    Path file = directory.resolve("key.pem");
    KeyFiles.writeEncrypted(file, KeySpec.EC_P256.generate().getPrivate(), PASSWORD);

    assertThat(catchThrowable(() -> KeyFiles.read(file, null)))
        .isInstanceOf(GeneralSecurityException.class)
        .hasMessage(file + " is encrypted: a password is required");
  }

  /** Returns rows of the case and the file text. Each must fail as a security error. */
  static Stream<Arguments> unreadableFiles() {
    String certificate = Pem.encode(CaCertificates.root("x", KeySpec.EC_P256.generate(),
        Instant.now()));
    return Stream.of(
        Arguments.of("empty file", ""),
        Arguments.of("not PEM", "hello\n"),
        Arguments.of("certificate", certificate),
        Arguments.of("invalid base64", "-----BEGIN ENCRYPTED PRIVATE KEY-----\n!!!!\n"
            + "-----END ENCRYPTED PRIVATE KEY-----\n"),
        Arguments.of("invalid DER", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAMCAQE=\n"
            + "-----END ENCRYPTED PRIVATE KEY-----\n"),
        Arguments.of("missing end line", "-----BEGIN PRIVATE KEY-----\nMAMCAQE=\n"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("unreadableFiles")
  void unreadableFileIsSecurityError(String name, String text) throws Exception {
    Path file = directory.resolve("key.pem");
    Files.writeString(file, text, StandardCharsets.US_ASCII);

    Throwable error = catchThrowable(() -> KeyFiles.read(file, PASSWORD));

    assertThat(error).isInstanceOf(GeneralSecurityException.class);
    assertThat(error.getMessage()).contains(file.toString());
  }

  @Test
  void truncatedEncryptedKeyIsSecurityError() throws Exception {
    Path file = directory.resolve("key.pem");
    KeyFiles.writeEncrypted(file, KeySpec.EC_P256.generate().getPrivate(), PASSWORD);
    String[] lines = Files.readString(file).split("\n");
    Files.writeString(file, lines[0] + "\n" + lines[1] + "\n" + lines[lines.length - 1] + "\n");

    Throwable error = catchThrowable(() -> KeyFiles.read(file, PASSWORD));

    assertThat(error).isInstanceOf(GeneralSecurityException.class);
    assertThat(error.getMessage()).contains(file.toString());
  }

  static String mode(Path file) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
  }
}
