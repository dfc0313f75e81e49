package io.iidca.ca.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.MalformedRequestException;
import io.iidca.ca.gcp.GcpTokenVerifier.AudienceRule;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Real instance identity tokens verify as of their own {@code iat} with the Google key that
 * signed them, and fail after any one-byte change to the header, payload or signature.
 */
class GcpFixtureTokenTest {

  static List<String> fixtures() {
    return GcpFixtures.names();
  }

  private static GcpTokenVerifier verifier(String name) {
    return new GcpTokenVerifier(GoogleKeys.fixed(GcpFixtures.keys(name), name),
        Duration.ofSeconds(60), "verify-gcp");
  }

  private static Instant issuedAt(String name) {
    return Instant.ofEpochSecond(((Number) GcpFixtures.payload(name).get("iat")).longValue());
  }

  private static AudienceRule audience(String name) {
    return AudienceRule.exactly((String) GcpFixtures.payload(name).get("aud"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  @SuppressWarnings("unchecked")
  void fixtureVerifiesAtItsIat(String name) {
    Map<String, Object> payload = GcpFixtures.payload(name);
    Map<String, Object> engine = (Map<String, Object>)
        ((Map<String, Object>) payload.get("google")).get("compute_engine");

    GcpIdentityToken token = verifier(name).verify(GcpFixtures.token(name), audience(name),
        issuedAt(name));

    assertThat(token.subject()).isEqualTo(payload.get("sub"));
    assertThat(token.email()).isEqualTo(payload.get("email"));
    assertThat(token.audience()).isEqualTo(payload.get("aud"));
    assertThat(token.expiresAt().getEpochSecond())
        .isEqualTo(((Number) payload.get("exp")).longValue());
    assertThat(token.computeEngine().projectId()).isEqualTo(engine.get("project_id"));
    assertThat(token.computeEngine().projectNumber())
        .isEqualTo(((Number) engine.get("project_number")).longValue());
    assertThat(token.computeEngine().zone()).isEqualTo(engine.get("zone"));
    assertThat(token.computeEngine().instanceId()).isEqualTo(engine.get("instance_id"));
    assertThat(token.computeEngine().instanceName()).isEqualTo(engine.get("instance_name"));
    assertThat(token.computeEngine().instanceCreation().getEpochSecond())
        .isEqualTo(((Number) engine.get("instance_creation_timestamp")).longValue());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void fixtureVerifiesWithItsSingleKey(String name) throws Exception {
    JWK key = JWK.parse(java.nio.file.Files.readString(
        GcpFixtures.path(name, "google-jwk.json")));
    GcpTokenVerifier verifier = new GcpTokenVerifier(
        GoogleKeys.fixed(new JWKSet(key), "google-jwk.json"), Duration.ZERO, "verify-gcp");

    GcpIdentityToken token = verifier.verify(GcpFixtures.token(name), audience(name),
        issuedAt(name));

    assertThat(token.issuer()).isEqualTo("https://accounts.google.com");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void fixtureExpiresAfterExpPlusLeeway(String name) {
    Instant exp = Instant.ofEpochSecond(
        ((Number) GcpFixtures.payload(name).get("exp")).longValue());
    GcpTokenVerifier verifier = verifier(name);

    assertThat(verifier.verify(GcpFixtures.token(name), audience(name), exp.plusSeconds(60))
        .subject()).isNotBlank();
    assertThatThrownBy(() -> verifier.verify(GcpFixtures.token(name), audience(name),
        exp.plusSeconds(61)))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("token expired at");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void fixtureRejectsOtherAudience(String name) {
    assertThatThrownBy(() -> verifier(name).verify(GcpFixtures.token(name),
        AudienceRule.exactly("https://ca.local/1.0/sign#gcp/x"), issuedAt(name)))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("is not https://ca.local/1.0/sign#gcp/x");
  }

  /** Flips the lowest bit of each byte of each decoded part in turn: every copy must fail. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void everyOneByteChangeIsRejected(String name) {
    String[] parts = GcpFixtures.token(name).split("\\.");
    GcpTokenVerifier verifier = verifier(name);
    AudienceRule audience = audience(name);
    Instant at = issuedAt(name);
    List<String> accepted = new ArrayList<>();
    int altered = 0;

    for (int part = 0; part < 3; part++) {
      byte[] bytes = Base64.getUrlDecoder().decode(parts[part]);
      for (int i = 0; i < bytes.length; i++) {
        byte[] changed = bytes.clone();
        changed[i] ^= 1;
        String[] copy = parts.clone();
        copy[part] = Base64.getUrlEncoder().withoutPadding().encodeToString(changed);
        String token = String.join(".", copy);
        altered++;
        try {
          verifier.verify(token, audience, at);
          accepted.add("part " + part + " byte " + i);
        } catch (IdentityRejectedException | MalformedRequestException e) {
          // Rejected, as expected.
        }
      }
    }

    assertThat(altered).isGreaterThan(500);
    assertThat(accepted).as("altered copies that verified").isEmpty();
  }
}
