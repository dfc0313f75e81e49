package io.iidca.ca.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Providers}: the native provider loads where its library exists, Bouncy Castle serves
 * what it lacks, and signatures made by one provider verify with the other.
 */
class ProvidersTest {

  private static final byte[] DATA = "to be signed".getBytes(StandardCharsets.UTF_8);

  static Stream<Arguments> keys() {
    return Stream.of(
        Arguments.of("SHA256withECDSA", KeySpec.EC_P256.generate()),
        Arguments.of("SHA384withECDSA", KeySpec.of("EC", "P-384", null).generate()),
        Arguments.of("SHA256withRSA", KeySpec.of("RSA", null, 2048).generate()));
  }

  @Test
  void nativeProviderLoadsOnLinuxX8664() {
    assumeTrue(System.getProperty("os.name").equals("Linux")
        && System.getProperty("os.arch").equals("amd64"), "ACCP ships linux-x86_64 only here");
    assertThat(Providers.nativeLoaded()).isTrue();
    assertThat(Providers.signatures().getName()).isEqualTo("AmazonCorrettoCryptoProvider");
  }

  @Test
  void ed25519FallsBackToBouncyCastle() throws Exception {
    assertThat(Providers.signature("Ed25519").getProvider()).isSameAs(Providers.bouncyCastle());
  }

  @Test
  void digestMatchesBouncyCastle() throws Exception {
    byte[] expected = MessageDigest.getInstance("SHA-256", Providers.bouncyCastle())
        .digest(DATA);
    assertThat(Providers.digest("SHA-256").digest(DATA)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("keys")
  void nativeSignatureVerifiesWithBouncyCastle(String algorithm, KeyPair keys)
      throws Exception {
    PrivateKey key = Providers.nativeKey(keys.getPrivate());
    Signature signer = Signature.getInstance(algorithm,
        Providers.signerFor(algorithm, key));
    signer.initSign(key);
    signer.update(DATA);
    byte[] value = signer.sign();

    Signature verifier = Signature.getInstance(algorithm, Providers.bouncyCastle());
    verifier.initVerify(keys.getPublic());
    verifier.update(DATA);
    assertThat(verifier.verify(value)).isTrue();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("keys")
  void bouncyCastleSignatureVerifiesNatively(String algorithm, KeyPair keys)
      throws Exception {
    Signature signer = Signature.getInstance(algorithm, Providers.bouncyCastle());
    signer.initSign(keys.getPrivate());
    signer.update(DATA);
    byte[] value = signer.sign();

    Signature verifier = Providers.signature(algorithm);
    verifier.initVerify(keys.getPublic());
    verifier.update(DATA);
    assertThat(verifier.verify(value)).isTrue();
    verifier.initVerify(keys.getPublic());
    verifier.update("other data".getBytes(StandardCharsets.UTF_8));
    assertThat(verifier.verify(value)).isFalse();
  }

  @Test
  void bouncyCastleEcdsaKeyIsConverted() throws Exception {
    assumeTrue(Providers.nativeLoaded(), "ACCP is not loaded on this platform");
    KeyPairGenerator generator = KeyPairGenerator.getInstance("ECDSA", Providers.bouncyCastle());
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    PrivateKey key = generator.generateKeyPair().getPrivate();
    assertThat(key.getAlgorithm()).isEqualTo("ECDSA");

    PrivateKey converted = Providers.nativeKey(key);

    assertThat(converted.getAlgorithm()).isEqualTo("EC");
    assertThat(Providers.signerFor("SHA256withECDSA", converted))
        .isSameAs(Providers.signatures());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("keys")
  void convertedPublicKeyVerifies(String algorithm, KeyPair keys) throws Exception {
    assumeTrue(Providers.nativeLoaded(), "ACCP is not loaded on this platform");
    Signature signer = Signature.getInstance(algorithm, Providers.bouncyCastle());
    signer.initSign(keys.getPrivate());
    signer.update(DATA);
    byte[] value = signer.sign();

    PublicKey converted = Providers.nativeKey(keys.getPublic());

    assertThat(converted.getClass().getName()).startsWith("com.amazon.corretto.");
    assertThat(converted.getEncoded()).isEqualTo(keys.getPublic().getEncoded());
    Signature verifier = Providers.signature(algorithm);
    verifier.initVerify(converted);
    verifier.update(DATA);
    assertThat(verifier.verify(value)).isTrue();
  }

  @Test
  void dsaPublicKeyIsNotConverted() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("DSA");
    generator.initialize(2048);
    PublicKey key = generator.generateKeyPair().getPublic();

    assertThat(Providers.nativeKey(key)).isSameAs(key);
  }

  @Test
  void ed25519KeyStaysWithBouncyCastle() {
    KeyPair keys = KeySpec.of("OKP", null, null).generate();
    assertThat(Providers.nativeKey(keys.getPrivate())).isSameAs(keys.getPrivate());
    assertThat(Providers.signerFor("Ed25519", keys.getPrivate()))
        .isSameAs(Providers.bouncyCastle());
  }
}
