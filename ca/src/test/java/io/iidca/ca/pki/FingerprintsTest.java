package io.iidca.ca.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link Fingerprints}: SHA-256 of the DER, and fingerprints as users type them. */
class FingerprintsTest {

  static final String HEX = "0123456789abcdef".repeat(4);

  static Stream<Arguments> typedForms() {
    String colons = HEX.toUpperCase().replaceAll("(..)(?!$)", "$1:");
    String spaces = HEX.replaceAll("(..)(?!$)", "$1 ");
    return Stream.of(
        Arguments.of(HEX),
        Arguments.of(HEX.toUpperCase()),
        Arguments.of(colons),
        Arguments.of(spaces),
        Arguments.of("0123456789ABCDEF".repeat(2) + "0123456789abcdef".repeat(2)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("typedForms")
  void normalizeReturnsLowerCaseHex(String typed) {
    assertThat(Fingerprints.normalize(typed)).isEqualTo(HEX);
  }

  static Stream<String> notFingerprints() {
    return Stream.of("", "abc", HEX.substring(1), HEX + "0", "g" + HEX.substring(1),
        "SHA256:" + HEX, HEX + "/../", HEX + "\n");
  }

  @ParameterizedTest(name = "''{0}''")
  @MethodSource("notFingerprints")
  void normalizeRejectsNonFingerprintNamingIt(String typed) {
    assertThatThrownBy(() -> Fingerprints.normalize(typed))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("fingerprint " + typed + " is not a SHA-256 fingerprint: expected 64 hex"
            + " digits");
  }

  @Test
  void certificateFingerprintIsSha256OfDer() throws Exception {
    X509Certificate root = CaCertificates.root("x", KeySpec.EC_P256.generate(), Instant.now());
    String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(root.getEncoded()));

    assertThat(Fingerprints.of(root)).isEqualTo(expected);
    assertThat(Fingerprints.normalize(Fingerprints.of(root).toUpperCase())).isEqualTo(expected);
  }
}
