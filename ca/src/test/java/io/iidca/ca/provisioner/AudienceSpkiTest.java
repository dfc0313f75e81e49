package io.iidca.ca.provisioner;

import static org.assertj.core.api.Assertions.assertThat;

import io.iidca.ca.pki.Fingerprints;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Audience} with iidca's key binding: one {@code spki} query parameter holding the
 * unpadded base64url SHA-256 of the request key's SubjectPublicKeyInfo. Any other query still
 * makes the audience unparseable.
 */
class AudienceSpkiTest {

  static final String DIGEST = "A".repeat(42) + "Q";

  @Test
  void parseReadsSpki() {
    Audience audience = Audience.parse("https://ca.local/1.0/sign?spki=" + DIGEST + "#gcp/GCP")
        .orElseThrow();

    assertThat(audience.spki()).isEqualTo(DIGEST);
    assertThat(audience.type()).isEqualTo("gcp");
    assertThat(audience.provisionerName()).isEqualTo("GCP");
    assertThat(audience.path()).isEqualTo("/1.0/sign");
  }

  @Test
  void parseWithoutQueryHasNoSpki() {
    assertThat(Audience.parse("https://ca.local/1.0/sign#gcp/GCP").orElseThrow().spki())
        .isNull();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "?spki=",
      "?spki=short",
      "?spki=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
      "?spki=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",
      "?spki=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "?SPKI=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQ",
      "?spki=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQ&x=1",
      "?x=1&spki=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQ",
      "?spki=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQ"
          + "&spki=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQ",
      "?aws=x"})
  void parseRejectsOtherQueries(String query) {
    assertThat(Audience.parse("https://ca.local/1.0/sign" + query + "#gcp/GCP")).isEmpty();
  }

  @Test
  void boundPutsDigestOfKeyBeforeFragment() throws Exception {
    PublicKey key = KeyPairGenerator.getInstance("EC").generateKeyPair().getPublic();
    String expected = Base64.getUrlEncoder().withoutPadding()
        .encodeToString(Fingerprints.sha256(key.getEncoded()));

    String text = Audience.bound("https://ca.local:8443/", "gcp", "100% GCP", key);

    assertThat(text).isEqualTo("https://ca.local:8443/1.0/sign?spki=" + expected
        + "#gcp/100%25 GCP");
    Audience parsed = Audience.parse(text).orElseThrow();
    assertThat(parsed.spki()).isEqualTo(expected).hasSize(43);
    assertThat(parsed.provisionerName()).isEqualTo("100% GCP");
    assertThat(parsed.isSignUrlOf(java.util.List.of("ca.local"))).isTrue();
  }
}
