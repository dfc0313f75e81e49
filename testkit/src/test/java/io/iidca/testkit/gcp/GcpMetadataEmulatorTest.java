package io.iidca.testkit.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.config.GcpOptions;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.UnavailableException;
import io.iidca.ca.gcp.GoogleKeys;
import io.iidca.ca.provisioner.GcpProvisioner;
import io.iidca.ca.provisioner.VerifiedIdentity;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link GcpMetadataEmulator}: the metadata paths, headers and errors of the Compute Engine
 * metadata server, and a key set that verifies the tokens it issues.
 */
class GcpMetadataEmulatorTest {

  static final Instant CREATED = Instant.parse("2024-05-01T11:00:00Z");
  static final GcpInstance INSTANCE = new GcpInstance("my-project-123", 123456789012L,
      "europe-west1-b", "4567890123456789012", "web-1", CREATED,
      "ci@my-project-123.iam.gserviceaccount.com", "104070955682298736149");
  static final String AUDIENCE = "https://ca.local/1.0/sign#gcp/GCP";

  private final HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY)
      .build();
  private final GcpMetadataEmulator emulator = GcpMetadataEmulator.builder()
      .instance(INSTANCE).jwksMaxAge(Duration.ofMinutes(30)).start();

  @AfterEach
  void close() {
    emulator.close();
  }

  private HttpResponse<String> get(String pathAndQuery, Map<String, String> headers)
      throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(
        URI.create(emulator.endpoint() + pathAndQuery)).timeout(Duration.ofSeconds(10));
    headers.forEach(request::header);
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> metadata(String pathAndQuery) throws Exception {
    return get("/computeMetadata/v1/" + pathAndQuery, Map.of("Metadata-Flavor", "Google"));
  }

  private static String identityPath(String audience, String format) {
    return "instance/service-accounts/default/identity?audience="
        + URLEncoder.encode(audience, StandardCharsets.UTF_8) + "&format=" + format;
  }

  /** Returns rows of a metadata path and the value served for {@link #INSTANCE}. */
  static Stream<Arguments> values() {
    return Stream.of(
        Arguments.of("instance/id", "4567890123456789012"),
        Arguments.of("instance/name", "web-1"),
        Arguments.of("instance/hostname", "web-1.europe-west1-b.c.my-project-123.internal"),
        Arguments.of("instance/zone", "projects/123456789012/zones/europe-west1-b"),
        Arguments.of("instance/service-accounts/default/email",
            "ci@my-project-123.iam.gserviceaccount.com"),
        Arguments.of("project/project-id", "my-project-123"),
        Arguments.of("project/numeric-project-id", "123456789012"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("values")
  void metadataPathServesValue(String path, String expected) throws Exception {
    HttpResponse<String> response = metadata(path);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo(expected);
    assertThat(response.headers().firstValue("Metadata-Flavor")).contains("Google");
  }

  /** Returns rows of request headers that the metadata server rejects with 403. */
  static Stream<Arguments> forbiddenHeaders() {
    return Stream.of(
        Arguments.of(Map.of()),
        Arguments.of(Map.of("Metadata-Flavor", "google")),
        Arguments.of(Map.of("Metadata-Flavor", "Amazon")),
        Arguments.of(Map.of("Metadata-Flavor", "Google", "X-Forwarded-For", "10.0.0.1")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("forbiddenHeaders")
  void metadataWithoutFlavorIsForbidden(Map<String, String> headers) throws Exception {
    HttpResponse<String> response = get("/computeMetadata/v1/"
        + identityPath(AUDIENCE, "full"), headers);

    assertThat(response.statusCode()).isEqualTo(403);
    assertThat(response.headers().firstValue("Metadata-Flavor")).contains("Google");
    assertThat(response.body()).isEqualTo(headers.containsKey("X-Forwarded-For")
        ? "X-Forwarded-For is not allowed\n" : "Missing Metadata-Flavor:Google header.\n");
  }

  @Test
  void identityWithoutAudienceIsBadRequest() throws Exception {
    assertThat(metadata("instance/service-accounts/default/identity?format=full")
        .statusCode()).isEqualTo(400);
    assertThat(metadata("instance/service-accounts/default/identity?audience=&format=full")
        .statusCode()).isEqualTo(400);
    assertThat(metadata(identityPath(AUDIENCE, "compact")).statusCode()).isEqualTo(400);
  }

  @Test
  void unknownPathAndMethod() throws Exception {
    assertThat(metadata("instance/unknown").statusCode()).isEqualTo(404);
    assertThat(get("/other", Map.of()).statusCode()).isEqualTo(404);
    HttpResponse<String> post = http.send(HttpRequest.newBuilder(emulator.jwksUrl())
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
  }

  @Test
  void fullTokenCarriesInstanceClaims() throws Exception {
    HttpResponse<String> response = metadata(identityPath(AUDIENCE, "full"));
    SignedJWT jwt = SignedJWT.parse(response.body());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(jwt.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.RS256);
    assertThat(jwt.getHeader().getKeyID()).matches("[0-9a-f]{40}");
    assertThat(jwt.getJWTClaimsSet().getAudience()).containsExactly(AUDIENCE);
    assertThat(jwt.getJWTClaimsSet().getIssuer()).isEqualTo("https://accounts.google.com");
    assertThat(jwt.getJWTClaimsSet().getSubject()).isEqualTo(INSTANCE.serviceAccountId());
    Map<String, Object> engine = (Map<String, Object>) jwt.getJWTClaimsSet()
        .getJSONObjectClaim("google").get("compute_engine");
    assertThat(engine).containsEntry("project_id", "my-project-123")
        .containsEntry("project_number", 123456789012L)
        .containsEntry("zone", "europe-west1-b")
        .containsEntry("instance_id", "4567890123456789012")
        .containsEntry("instance_name", "web-1")
        .containsEntry("instance_creation_timestamp", CREATED.getEpochSecond());
  }

  @Test
  void standardTokenHasNoInstanceClaims() throws Exception {
    SignedJWT jwt = SignedJWT.parse(metadata(identityPath(AUDIENCE, "standard")).body());

    assertThat(jwt.getJWTClaimsSet().getClaim("google")).isNull();
    assertThat(jwt.getJWTClaimsSet().getClaim("email"))
        .isEqualTo(INSTANCE.serviceAccountEmail());
  }

  @Test
  void keySetServedWithCacheControl() throws Exception {
    HttpResponse<String> response = get("/oauth2/v3/certs", Map.of());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Cache-Control"))
        .contains("public, max-age=1800, must-revalidate, no-transform");
    assertThat(JWKSet.parse(response.body()).getKeys()).hasSize(1);
    assertThat(emulator.jwksFetchCount()).isEqualTo(1);
  }

  /** A clock for the key cache that moves only when the test moves it. */
  private final Clock[] cacheClock = {Clock.systemUTC()};

  private GcpProvisioner provisioner(List<String> projects) {
    Clock clock = new Clock() {
      @Override
      public Instant instant() {
        return cacheClock[0].instant();
      }

      @Override
      public java.time.ZoneId getZone() {
        return java.time.ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(java.time.ZoneId zone) {
        return this;
      }
    };
    ProvisionerConfig config = ProvisionerConfig.gcp("GCP", new GcpOptions(projects, List.of(),
        List.of("europe-west1"), emulator.jwksUrl().toString(), null, false));
    return new GcpProvisioner(config, GoogleKeys.fetching(emulator.jwksUrl(),
        GoogleKeys.Settings.DEFAULT, clock), List.of("ca.local"));
  }

  @Test
  void keySetVerifiesIssuedTokens() throws Exception {
    String token = metadata(identityPath(AUDIENCE, "full")).body();

    VerifiedIdentity identity = provisioner(List.of("my-project-123"))
        .verify(token, null, Instant.now());

    assertThat(identity.instanceId()).isEqualTo("4567890123456789012");
    assertThat(identity.region()).isEqualTo("europe-west1-b");
    assertThat(identity.vouchedNames()).containsExactly("web-1.c.my-project-123.internal",
        "web-1.europe-west1-b.c.my-project-123.internal");
    assertThat(emulator.jwksFetchCount()).isEqualTo(1);
  }

  @Test
  void rotatedKeySignsAndOldTokensStillVerify() throws Exception {
    GcpProvisioner provisioner = provisioner(List.of("my-project-123"));
    String before = metadata(identityPath(AUDIENCE, "full")).body();
    provisioner.verify(before, null, Instant.now());

    emulator.rotateKey();
    cacheClock[0] = Clock.offset(Clock.systemUTC(), Duration.ofSeconds(10));
    String after = metadata(identityPath(AUDIENCE, "full")).body();

    assertThat(SignedJWT.parse(after).getHeader().getKeyID())
        .isNotEqualTo(SignedJWT.parse(before).getHeader().getKeyID());
    assertThat(provisioner.verify(after, null, Instant.now()).instanceId())
        .isEqualTo(INSTANCE.instanceId());
    assertThat(provisioner.verify(before, null, Instant.now()).instanceId())
        .isEqualTo(INSTANCE.instanceId());
    assertThat(emulator.jwksFetchCount()).isEqualTo(2);
  }

  @Test
  void failedKeySetIsUnavailable() throws Exception {
    emulator.failJwks(true);
    String token = metadata(identityPath(AUDIENCE, "full")).body();

    assertThatThrownBy(() -> provisioner(List.of("my-project-123"))
        .verify(token, null, Instant.now()))
        .isInstanceOf(UnavailableException.class)
        .hasMessageContaining("returned HTTP 500");
  }

  @Test
  void forgedTokensAreRejected() throws Exception {
    GcpProvisioner provisioner = provisioner(List.of("my-project-123"));
    String rs384 = emulator.sign(new JWSHeader.Builder(JWSAlgorithm.RS384)
        .keyID(emulator.signer().signingKey().getKeyID()).build(),
        emulator.identityClaims(AUDIENCE).build());
    String otherProject = emulator.sign(emulator.identityClaims(AUDIENCE)
        .claim("google", Map.of("compute_engine", Map.of("project_id", "other-project-1")))
        .build());

    assertThatThrownBy(() -> provisioner.verify(rs384, null, Instant.now()))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("token alg RS384 is not accepted");
    assertThatThrownBy(() -> provisioner.verify(otherProject, null, Instant.now()))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("google.compute_engine.project_number");
  }
}
