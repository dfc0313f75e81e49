package io.iidca.ca.provisioner;

import static io.iidca.ca.gcp.GcpTestTokens.claims;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import io.iidca.ca.config.GcpOptions;
import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.MalformedRequestException;
import io.iidca.ca.gcp.GcpTestTokens;
import io.iidca.ca.gcp.GoogleKeys;
import io.iidca.ca.policy.NamePolicy;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link GcpProvisioner}: a token signed by the test stand-in for Google is accepted only with
 * RS256 and a known key, Google's issuer, this CA's sign URL as audience, fresh times, the full
 * compute_engine claims, and an allowed project, service account, zone and instance age.
 */
class GcpProvisionerTest {

  static final String NAME = "GCP";
  static final List<String> DNS_NAMES = List.of("ca.local", "127.0.0.1");
  static final String AUDIENCE = "https://ca.local/1.0/sign#gcp/" + NAME;
  static final Instant NOW = Instant.parse("2024-05-01T12:00:00Z");
  static final Instant IAT = NOW.minusSeconds(300);
  static final GcpTestTokens GOOGLE = GcpTestTokens.generate();
  static final PublicKey CSR_KEY = generateKey();

  static GcpOptions options(List<String> projects, List<String> accounts, List<String> zones,
      boolean requireKeyBinding) {
    return new GcpOptions(projects, accounts, zones, "http://127.0.0.1:1/certs", null,
        requireKeyBinding);
  }

  static GcpOptions projectOnly() {
    return options(List.of(GcpTestTokens.PROJECT_ID), List.of(), List.of(), false);
  }

  static ProvisionerConfig config(GcpOptions options, Duration instanceAge) {
    return new ProvisionerConfig(NAME, ProvisionerConfig.TYPE_GCP, Lifetime.DEFAULT, false,
        false, instanceAge, List.of(), ProvisionerConfig.DEFAULT_AWS_FORMS, List.of(), false,
        false, null, false, NamePolicy.NONE, options, null);
  }

  static GcpProvisioner provisioner(GcpOptions options, Duration instanceAge) {
    return new GcpProvisioner(config(options, instanceAge),
        GoogleKeys.fixed(GOOGLE.publicKeys(), "test keys"), DNS_NAMES);
  }

  static String signed(JWTClaimsSet.Builder claims) {
    return GOOGLE.sign(claims.build());
  }

  static String withEngine(String field, Object value) {
    Map<String, Object> engine = GcpTestTokens.computeEngine(IAT.minusSeconds(3600));
    if (value == null) {
      engine.remove(field);
    } else {
      engine.put(field, value);
    }
    return signed(claims(AUDIENCE, IAT).claim("google", Map.of("compute_engine", engine)));
  }

  static PublicKey generateKey() {
    try {
      return KeyPairGenerator.getInstance("EC").generateKeyPair().getPublic();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String hmacWithPublicKey() {
    try {
      byte[] secret = GOOGLE.privateKey().toRSAPublicKey().getEncoded();
      return GcpTestTokens.sign(new JWSHeader.Builder(JWSAlgorithm.HS256)
          .keyID(GOOGLE.privateKey().getKeyID()).build(), claims(AUDIENCE, IAT).build(),
          new MACSigner(secret));
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Returns rows of a case name, the provisioner, the token, the time of the check and the
   * exact reason of the rejection.
   */
  static Stream<Arguments> rejections() {
    GcpProvisioner projectOnly = provisioner(projectOnly(), null);
    return Stream.of(
        Arguments.of("wrong project",
            projectOnly, withEngine("project_id", "other-project-9"), NOW,
            "project_id other-project-9 is not in the allowed projects [my-project-123]"),
        Arguments.of("wrong service account",
            provisioner(options(List.of(), List.of("ci@p.iam.gserviceaccount.com"), List.of(),
                false), null),
            signed(claims(AUDIENCE, IAT)), NOW,
            "service account " + GcpTestTokens.EMAIL + " (id " + GcpTestTokens.SUBJECT
                + ") is not in the allowed service accounts [ci@p.iam.gserviceaccount.com]"),
        Arguments.of("wrong zone",
            provisioner(options(List.of(GcpTestTokens.PROJECT_ID), List.of(),
                List.of("europe-west1", "us-central1-b"), false), null),
            signed(claims(AUDIENCE, IAT)), NOW,
            "zone us-central1-a is not in the allowed zones and regions"
                + " [europe-west1, us-central1-b]"),
        Arguments.of("expired",
            projectOnly, signed(claims(AUDIENCE, IAT)), IAT.plusSeconds(3600 + 61),
            "token expired at " + IAT.plusSeconds(3600) + "; now is "
                + IAT.plusSeconds(3600 + 61)),
        Arguments.of("iat in the future",
            projectOnly, signed(claims(AUDIENCE, NOW.plusSeconds(61))), NOW,
            "token iat " + NOW.plusSeconds(61) + " is in the future; now is " + NOW),
        Arguments.of("lifetime over one hour",
            projectOnly, signed(claims(AUDIENCE, IAT)
                .expirationTime(Date.from(IAT.plusSeconds(3600 + 61)))), NOW,
            "token iat " + IAT + " is more than 60 minutes before its exp "
                + IAT.plusSeconds(3661) + ", longer than Google's token lifetime"),
        Arguments.of("wrong audience host",
            projectOnly, signed(claims("https://other.example/1.0/sign#gcp/GCP", IAT)), NOW,
            "token aud https://other.example/1.0/sign#gcp/GCP is not this CA's sign URL on"
                + " [ca.local, 127.0.0.1] with #gcp/GCP"),
        Arguments.of("audience of another provisioner",
            projectOnly, signed(claims("https://ca.local/1.0/sign#gcp/Other", IAT)), NOW,
            "token aud https://ca.local/1.0/sign#gcp/Other is not this CA's sign URL on"
                + " [ca.local, 127.0.0.1] with #gcp/GCP"),
        Arguments.of("audience of type aws",
            projectOnly, signed(claims("https://ca.local/1.0/sign#aws/GCP", IAT)), NOW,
            "token aud https://ca.local/1.0/sign#aws/GCP is not this CA's sign URL on"
                + " [ca.local, 127.0.0.1] with #gcp/GCP"),
        Arguments.of("two audiences",
            projectOnly, signed(claims(AUDIENCE, IAT).audience(List.of(AUDIENCE, AUDIENCE))),
            NOW, "token has 2 aud values [" + AUDIENCE + ", " + AUDIENCE
                + "], expected exactly one"),
        Arguments.of("wrong issuer",
            projectOnly, signed(claims(AUDIENCE, IAT).issuer("https://evil.example")), NOW,
            "token iss https://evil.example is not one of"),
        Arguments.of("unknown kid",
            projectOnly, GOOGLE.sign(new JWSHeader.Builder(JWSAlgorithm.RS256)
                .keyID("unknown-kid").build(), claims(AUDIENCE, IAT).build()), NOW,
            "token kid unknown-kid is not among Google's signing keys from test keys"),
        Arguments.of("no kid",
            projectOnly, GOOGLE.sign(new JWSHeader.Builder(JWSAlgorithm.RS256).build(),
                claims(AUDIENCE, IAT).build()), NOW,
            "token header has no kid"),
        Arguments.of("signed by another key with the same kid",
            projectOnly, otherKeySameKid(), NOW,
            "token signature does not verify with Google's key "
                + GOOGLE.privateKey().getKeyID()),
        Arguments.of("alg none",
            projectOnly, new PlainJWT(claims(AUDIENCE, IAT).build()).serialize(), NOW,
            "token alg none is not accepted: Google signs identity tokens with RS256"),
        Arguments.of("HS256 keyed with the public key",
            projectOnly, hmacWithPublicKey(), NOW,
            "token alg HS256 is not accepted: Google signs identity tokens with RS256"),
        Arguments.of("RS384 with Google's key",
            projectOnly, GOOGLE.sign(new JWSHeader.Builder(JWSAlgorithm.RS384)
                .keyID(GOOGLE.privateKey().getKeyID()).build(), claims(AUDIENCE, IAT).build()),
            NOW, "token alg RS384 is not accepted: Google signs identity tokens with RS256"),
        Arguments.of("no compute_engine (format=standard)",
            projectOnly, signed(claims(AUDIENCE, IAT).claim("google", null)), NOW,
            "token has no google.compute_engine claim: request the identity token with"
                + " format=full"),
        Arguments.of("no instance_name",
            projectOnly, withEngine("instance_name", null), NOW,
            "token has no google.compute_engine.instance_name claim"),
        Arguments.of("instance_name not a DNS label",
            projectOnly, withEngine("instance_name", "evil.example.com"), NOW,
            "token claim google.compute_engine.instance_name has the invalid value"
                + " evil.example.com"),
        Arguments.of("instance_creation_timestamp as text",
            projectOnly, withEngine("instance_creation_timestamp", "1616595847"), NOW,
            "token claim google.compute_engine.instance_creation_timestamp has the invalid"
                + " value 1616595847"),
        Arguments.of("no sub",
            projectOnly, signed(claims(AUDIENCE, IAT).subject(null)), NOW,
            "token sub null is not the numeric id of a service account"),
        Arguments.of("instance too old",
            provisioner(projectOnly(), Duration.ofMinutes(30)), signed(claims(AUDIENCE, IAT)),
            NOW, "instance " + GcpTestTokens.INSTANCE_ID + " was created at "
                + IAT.minusSeconds(3600) + ", 1h5m ago, which exceeds the instance age"
                + " limit 30m"),
        Arguments.of("key binding required but absent",
            provisioner(options(List.of(GcpTestTokens.PROJECT_ID), List.of(), List.of(), true),
                null), signed(claims(AUDIENCE, IAT)), NOW,
            "token aud has no spki parameter, but this provisioner requires the audience to"
                + " carry the SHA-256 of the request's public key"),
        Arguments.of("key binding to another key",
            projectOnly, signed(claims(Audience.bound("https://ca.local", "gcp", NAME,
                generateKey()), IAT)), NOW,
            "but the request's key is " + Audience.spkiDigest(CSR_KEY)));
  }

  static String otherKeySameKid() {
    GcpTestTokens other = GcpTestTokens.generate();
    return other.sign(new JWSHeader.Builder(JWSAlgorithm.RS256)
        .keyID(GOOGLE.privateKey().getKeyID()).build(), claims(AUDIENCE, IAT).build());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rejections")
  void verifyRejects(String name, GcpProvisioner provisioner, String token, Instant now,
      String reason) {
    assertThatThrownBy(() -> provisioner.verify(token, CSR_KEY, now))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageStartingWith("verify-gcp: ")
        .hasMessageContaining(reason);
  }

  @Test
  void verifyReturnsIdentity() {
    String token = signed(claims(AUDIENCE, IAT));

    VerifiedIdentity identity = provisioner(projectOnly(), Duration.ofHours(2))
        .verify(token, CSR_KEY, NOW);

    assertThat(identity.provisionerType()).isEqualTo("GCP");
    assertThat(identity.provisioner()).isEqualTo(NAME);
    assertThat(identity.instanceId()).isEqualTo(GcpTestTokens.INSTANCE_ID);
    assertThat(identity.account()).isEqualTo(GcpTestTokens.PROJECT_ID);
    assertThat(identity.region()).isEqualTo(GcpTestTokens.ZONE);
    assertThat(identity.pendingTime()).isEqualTo(IAT.minusSeconds(3600));
    assertThat(identity.vouchedNames()).containsExactly(
        "web-1.c.my-project-123.internal", "web-1.us-central1-a.c.my-project-123.internal");
    assertThat(identity.subject()).isEqualTo(GcpTestTokens.INSTANCE_NAME);
    assertThat(identity.tokenSans()).isNull();
    assertThat(identity.tokenId()).isEqualTo("sha256:" + HexFormat.of().formatHex(
        io.iidca.ca.pki.Fingerprints.sha256(token.getBytes(
            java.nio.charset.StandardCharsets.US_ASCII))));
    assertThat(identity.tokenExpiry()).isEqualTo(IAT.plusSeconds(3600));
  }

  /** Returns rows of a case name, the provisioner options and the token's claims. */
  static Stream<Arguments> acceptances() {
    String bound = Audience.bound("https://ca.local:8443", "gcp", NAME, CSR_KEY);
    return Stream.of(
        Arguments.of("zone in an allowed region",
            options(List.of(GcpTestTokens.PROJECT_ID), List.of(), List.of("us-central1"), false),
            claims(AUDIENCE, IAT)),
        Arguments.of("service account by email",
            options(List.of(), List.of(GcpTestTokens.EMAIL), List.of(), false),
            claims(AUDIENCE, IAT)),
        Arguments.of("service account by numeric id",
            options(List.of(), List.of(GcpTestTokens.SUBJECT), List.of(), false),
            claims(AUDIENCE, IAT)),
        Arguments.of("issuer without scheme",
            projectOnly(), claims(AUDIENCE, IAT).issuer("accounts.google.com")),
        Arguments.of("audience on an address and /sign",
            projectOnly(), claims("https://127.0.0.1:9000/sign#gcp/GCP", IAT)),
        Arguments.of("bound to the request's key",
            projectOnly(), claims(bound, IAT)),
        Arguments.of("bound key required and present",
            options(List.of(GcpTestTokens.PROJECT_ID), List.of(), List.of(), true),
            claims(bound, IAT)),
        Arguments.of("expired within the leeway",
            projectOnly(), claims(AUDIENCE, NOW.minusSeconds(3600 + 59))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("acceptances")
  void verifyAccepts(String name, GcpOptions options, JWTClaimsSet.Builder claims) {
    VerifiedIdentity identity = provisioner(options, null)
        .verify(signed(claims), CSR_KEY, NOW);

    assertThat(identity.instanceId()).isEqualTo(GcpTestTokens.INSTANCE_ID);
  }

  @Test
  void verifyRejectsEmailWhenNotVerified() {
    GcpProvisioner provisioner = provisioner(
        options(List.of(), List.of(GcpTestTokens.EMAIL), List.of(), false), null);
    String token = signed(claims(AUDIENCE, IAT).claim("email_verified", false));

    assertThatThrownBy(() -> provisioner.verify(token, CSR_KEY, NOW))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("service account null (id " + GcpTestTokens.SUBJECT + ")");
  }

  @Test
  void verifyRejectsGarbageAsMalformed() {
    GcpProvisioner provisioner = provisioner(projectOnly(), null);

    assertThatThrownBy(() -> provisioner.verify("not-a-jwt", CSR_KEY, NOW))
        .isInstanceOf(MalformedRequestException.class)
        .hasMessageStartingWith("verify-gcp: token is not a JWT");
  }

  @Test
  void domainScopedProjectVouchesNoNames() {
    GcpProvisioner provisioner = provisioner(
        options(List.of(), List.of(GcpTestTokens.SUBJECT), List.of(), false), null);
    String token = withEngine("project_id", "example.com:my-project");

    VerifiedIdentity identity = provisioner.verify(token, CSR_KEY, NOW);

    assertThat(identity.account()).isEqualTo("example.com:my-project");
    assertThat(identity.vouchedNames()).isEmpty();
  }
}
