package io.iidca.ca.provisioner;

import static io.iidca.ca.gcp.GcpTestTokens.claims;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.ca.config.GcpOptions;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.MalformedRequestException;
import io.iidca.ca.gcp.GcpTestTokens;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Attacks on {@link GcpProvisioner} and {@link Audience}: a token whose text differs from a
 * used one but verifies the same, unauthenticated JSON that nests deeply, zone and region
 * prefixes, and {@code spki} binding variants.
 */
class CloudBreakerUnitTest {

  private static final String AUDIENCE = GcpProvisionerTest.AUDIENCE;
  private static final PublicKey CSR_KEY = GcpProvisionerTest.CSR_KEY;

  private static GcpProvisioner projectOnly() {
    return GcpProvisionerTest.provisioner(GcpProvisionerTest.projectOnly(), null);
  }

  /**
   * Returns spellings of the same JWS: the RSA-2048 signature is 342 base64url characters whose
   * last one carries 4 unused bits, so 15 other last characters decode to the same bytes.
   */
  private static List<String> respellings(String token) {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int last = token.length() - 1;
    int value = alphabet.indexOf(token.charAt(last));
    List<String> spellings = new ArrayList<>();
    for (int low = 0; low < 16; low++) {
      int variant = (value & ~0xF) | low;
      if (variant != value) {
        spellings.add(token.substring(0, last) + alphabet.charAt(variant));
      }
    }
    return spellings;
  }

  @Test
  void gcpRespelledSignatureKeepsTokenId() {
    String token = GcpProvisionerTest.signed(claims(AUDIENCE, GcpProvisionerTest.IAT));
    GcpProvisioner provisioner = projectOnly();
    String tokenId = provisioner.verify(token, CSR_KEY, GcpProvisionerTest.NOW).tokenId();

    for (String respelled : respellings(token)) {
      String respelledId;
      try {
        respelledId = provisioner.verify(respelled, CSR_KEY, GcpProvisionerTest.NOW).tokenId();
      } catch (IdentityRejectedException | MalformedRequestException rejected) {
        continue;
      }
      assertThat(respelledId).as("token id of %s", respelled).isEqualTo(tokenId);
    }
  }

  @Test
  void gcpDeeplyNestedHeaderIsRejected() {
    String header = "{\"alg\":\"RS256\",\"kid\":\"k\",\"x\":" + "[".repeat(6000)
        + "]".repeat(6000) + "}";
    String token = base64Url(header) + "." + base64Url("{}") + "." + base64Url("sig");

    assertThatThrownBy(() -> projectOnly().verify(token, CSR_KEY, GcpProvisionerTest.NOW))
        .isInstanceOfAny(IdentityRejectedException.class, MalformedRequestException.class);
  }

  @ParameterizedTest(name = "allowed {0}, zone {1}: {2}")
  @CsvSource({
      "us-central1, us-central1-a, true",
      "us-central1, us-central10-a, false",
      "us-central1, us-central1a-a, false",
      "us-central1-a, us-central1-ab, false",
      "us-central1-a, us-central1-a, true",
      "us-central, us-central1-a, false",
      "us, us-central1-a, false",
  })
  void gcpZonePrefixes(String allowed, String zone, boolean expected) {
    GcpOptions options = new GcpOptions(List.of("my-project-123"), List.of(),
        List.of(allowed), null, null, false);

    assertThat(options.allowsZone(zone)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "padded digest | ?spki=%s=",
      "upper-case name | ?SPKI=%s",
      "two parameters | ?spki=%s&spki=%s",
      "empty second parameter | ?spki=%s&",
      "escaped equals sign | ?spki%%3D%s",
      "standard base64 | ?spki=%s+",
  })
  void spkiVariantIsNotAnAudience(String name, String query) {
    String digest = Audience.spkiDigest(CSR_KEY);
    String audience = "https://ca.local/1.0/sign" + query.formatted(digest, digest)
        + "#gcp/GCP";

    assertThat(Audience.parse(audience)).as(audience).isEmpty();
  }

  private static String base64Url(String text) {
    return Base64.getUrlEncoder().withoutPadding()
        .encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }
}
