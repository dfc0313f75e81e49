package io.iidca.ca.pki;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.KeyPair;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link KeySpec#generateWithInstalledProviders()}: each key type has the requested curve or
 * size and does not come from Bouncy Castle, which is registered after the JDK's providers.
 */
class KeySpecTest {

  @ParameterizedTest(name = "{0} {1} {2}")
  @CsvSource({
      "EC, P-256, , EC, 256",
      "EC, P-384, , EC, 384",
      "EC, P-521, , EC, 521",
      "RSA, , 2048, RSA, 2048",
      "OKP, Ed25519, , EdDSA, 0",
  })
  void installedProvidersGenerateRequestedKey(String kty, String curve, Integer size,
      String expectedAlgorithm, int expectedBits) {
    KeyPair keys = KeySpec.of(kty, curve, size).generateWithInstalledProviders();

    assertThat(keys.getPrivate().getAlgorithm()).isEqualTo(expectedAlgorithm);
    assertThat(keys.getPublic().getClass().getName()).doesNotStartWith("org.bouncycastle.");
    assertThat(keys.getPrivate().getClass().getName()).doesNotStartWith("org.bouncycastle.");
    if (keys.getPublic() instanceof ECPublicKey ec) {
      assertThat(ec.getParams().getCurve().getField().getFieldSize()).isEqualTo(expectedBits);
    }
    if (keys.getPublic() instanceof RSAPublicKey rsa) {
      assertThat(rsa.getModulus().bitLength()).isEqualTo(expectedBits);
    }
  }
}
