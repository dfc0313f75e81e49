package io.iidca.ca.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.config.AzureOptions;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.pki.Pem;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Managed-identity token verification: the real token and a table of rejections. */
class AzureTokenVerifierTest {

  private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

  private TestTenant tenant;

  @BeforeEach
  void start() throws Exception {
    tenant = new TestTenant();
  }

  @AfterEach
  void stop() {
    tenant.close();
  }

  private AzureOptions options(List<String> subscriptions, List<String> groups,
      List<String> objectIds) {
    return new AzureOptions(TestTenant.TENANT, AzureOptions.PUBLIC_CLOUD, null, subscriptions,
        groups, objectIds, tenant.openIdConfigUrl().toString(), false, List.of());
  }

  private AzureTokenVerifier verifier(AzureOptions options) {
    return new AzureTokenVerifier(options, new TenantKeys(tenant.openIdConfigUrl(),
        options.tenantId(), TenantKeys.defaultClient(), Clock.fixed(NOW, java.time.ZoneOffset.UTC),
        Duration.ofMinutes(5), Duration.ofSeconds(10)));
  }

  @Test
  void realManagedIdentityTokenIsVerifiedAsOfIat() throws Exception {
    String folder = "mi-token-cosmosdb-demo-vm-2021";
    X509Certificate certificate = Pem.parseCertificates(
        AzureFixtures.bytes(folder, "entra-signing-cert-x5c.pem")).get(0);
    String keyId = "nOo3ZDrODXEK1jKWhXslHR_KXEg";
    tenant.jwks = new JWKSet(new RSAKey.Builder((RSAPublicKey) certificate.getPublicKey())
        .keyID(keyId).x509CertChain(List.of(Base64.encode(certificate.getEncoded())))
        .build()).toString();
    String tenantId = "a14f3c13-2bd5-49c9-8c2b-9c35b21398ce";
    AzureOptions options = new AzureOptions(tenantId, AzureOptions.PUBLIC_CLOUD,
        "https://storage.azure.com", List.of(), List.of("DEMO"), List.of(),
        tenant.openIdConfigUrl().toString(), false, List.of());
    Instant issuedAt = Instant.ofEpochSecond(1627486342);
    AzureTokenVerifier verifier = new AzureTokenVerifier(options, new TenantKeys(
        tenant.openIdConfigUrl(), tenantId, TenantKeys.defaultClient(),
        Clock.fixed(issuedAt, java.time.ZoneOffset.UTC), Duration.ofMinutes(5),
        Duration.ofSeconds(10)));

    VerifiedAzureToken token = verifier.verify(
        AzureToken.parse(AzureFixtures.read(folder, "token.jwt")), issuedAt);

    assertThat(TenantKeys.thumbprint(certificate)).isEqualTo(keyId);
    assertThat(token.tenantId()).isEqualTo(tenantId);
    assertThat(token.objectId()).isEqualTo("0a354780-1a8f-47c3-a94a-37fd8b8417fb");
    assertThat(token.resource().subscriptionId())
        .isEqualTo("ba11dd43-5df0-464d-868f-fd3a7503e680");
    assertThat(token.resource().resourceGroup()).isEqualTo("demo");
    assertThat(token.resource().vmName()).isEqualTo("demo-vm");
    assertThat(token.expiry()).isEqualTo(Instant.ofEpochSecond(1627573042));
  }

  @Test
  void realTokenWithOneAlteredCharacterIsRejected() throws Exception {
    String folder = "mi-token-cosmosdb-demo-vm-2021";
    X509Certificate certificate = Pem.parseCertificates(
        AzureFixtures.bytes(folder, "entra-signing-cert-x5c.pem")).get(0);
    tenant.jwks = new JWKSet(new RSAKey.Builder((RSAPublicKey) certificate.getPublicKey())
        .keyID("nOo3ZDrODXEK1jKWhXslHR_KXEg").build()).toString();
    String tenantId = "a14f3c13-2bd5-49c9-8c2b-9c35b21398ce";
    AzureOptions options = new AzureOptions(tenantId, AzureOptions.PUBLIC_CLOUD,
        "https://storage.azure.com/", List.of(), List.of(), List.of(),
        tenant.openIdConfigUrl().toString(), false, List.of());
    Instant issuedAt = Instant.ofEpochSecond(1627486342);
    AzureTokenVerifier verifier = new AzureTokenVerifier(options, new TenantKeys(
        tenant.openIdConfigUrl(), tenantId, TenantKeys.defaultClient(),
        Clock.fixed(issuedAt, java.time.ZoneOffset.UTC), Duration.ofMinutes(5),
        Duration.ofSeconds(10)));
    String token = AzureFixtures.read(folder, "token.jwt").strip();
    int inPayload = token.indexOf('.') + 40;
    char replaced = token.charAt(inPayload) == 'A' ? 'B' : 'A';
    String altered = token.substring(0, inPayload) + replaced + token.substring(inPayload + 1);

    assertThatThrownBy(() -> verifier.verify(AzureToken.parse(altered), issuedAt))
        .isInstanceOf(IdentityRejectedException.class);
  }

  @Test
  void validTokenIsVerified() throws Exception {
    String token = tenant.sign(TestTenant.claims(NOW).build());

    VerifiedAzureToken verified = verifier(options(List.of(TestTenant.SUBSCRIPTION.toUpperCase()),
        List.of("WEB-RG"), List.of(TestTenant.OBJECT_ID))).verify(AzureToken.parse(token), NOW);

    assertThat(verified.resource().vmName()).isEqualTo("web-1");
    assertThat(verified.objectId()).isEqualTo(TestTenant.OBJECT_ID);
  }

  @Test
  void openIdIssuerIsAccepted() throws Exception {
    String token = tenant.sign(TestTenant.claims(NOW).issuer(tenant.v2Issuer()).build());

    assertThat(verifier(options(List.of(), List.of(), List.of()))
        .verify(AzureToken.parse(token), NOW).tenantId()).isEqualTo(TestTenant.TENANT);
  }

  static Stream<Arguments> rejectedClaims() {
    return Stream.of(
        Arguments.of("wrong tenant", claims(c -> c.claim("tid",
            "99999999-86f1-41af-91ab-2d7cd011db47")), "tid 99999999"),
        Arguments.of("wrong issuer", claims(c -> c.issuer("https://sts.windows.net/other/")),
            "iss https://sts.windows.net/other/"),
        Arguments.of("wrong audience", claims(c -> c.audience("https://vault.azure.net")),
            "aud [https://vault.azure.net]"),
        Arguments.of("expired", claims(c -> c.expirationTime(Date.from(NOW.minusSeconds(61)))),
            "expired at"),
        Arguments.of("no expiry", claims(c -> c.expirationTime(null)), "no exp"),
        Arguments.of("not yet valid", claims(c -> c.notBeforeTime(
            Date.from(NOW.plusSeconds(61)))), "nbf"),
        Arguments.of("issued in future", claims(c -> c.issueTime(
            Date.from(NOW.plusSeconds(61)))), "iat"),
        Arguments.of("no oid", claims(c -> c.claim("oid", null)), "no oid"),
        Arguments.of("no xms_mirid", claims(c -> c.claim("xms_mirid", null)), "no xms_mirid"),
        Arguments.of("app service identity", claims(c -> c.claim("xms_mirid",
            "/subscriptions/" + TestTenant.SUBSCRIPTION + "/resourcegroups/web-rg/providers/"
                + "Microsoft.Web/sites/app")), "is not a virtual machine"));
  }

  private static UnaryOperator<JWTClaimsSet.Builder> claims(
      UnaryOperator<JWTClaimsSet.Builder> change) {
    return change;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rejectedClaims")
  void claimIsRejected(String name, UnaryOperator<JWTClaimsSet.Builder> change, String reason)
      throws Exception {
    String token = tenant.sign(change.apply(TestTenant.claims(NOW)).build());
    AzureTokenVerifier verifier = verifier(options(List.of(), List.of(), List.of()));

    assertThatThrownBy(() -> verifier.verify(AzureToken.parse(token), NOW))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining(reason);
  }

  @Test
  void tokenWithinLeewayIsAccepted() throws Exception {
    String token = tenant.sign(TestTenant.claims(NOW)
        .expirationTime(Date.from(NOW.minusSeconds(59)))
        .notBeforeTime(Date.from(NOW.plusSeconds(59))).build());

    assertThat(verifier(options(List.of(), List.of(), List.of()))
        .verify(AzureToken.parse(token), NOW).objectId()).isEqualTo(TestTenant.OBJECT_ID);
  }

  @Test
  void audienceWithoutTrailingSlashIsAccepted() throws Exception {
    String token = tenant.sign(TestTenant.claims(NOW)
        .audience("https://management.azure.com").build());

    assertThat(verifier(options(List.of(), List.of(), List.of()))
        .verify(AzureToken.parse(token), NOW).objectId()).isEqualTo(TestTenant.OBJECT_ID);
  }

  static Stream<Arguments> rejectedRestrictions() {
    return Stream.of(
        Arguments.of(List.of("aaaaaaaa-0000-4000-8000-000000000000"), List.of(), List.of(),
            "subscription " + TestTenant.SUBSCRIPTION + " is not in the allowed subscriptions"),
        Arguments.of(List.of(), List.of("other-rg"), List.of(),
            "resource group web-rg is not in the allowed resource groups [other-rg]"),
        Arguments.of(List.of(), List.of(), List.of("aaaaaaaa-0000-4000-8000-000000000000"),
            "object id " + TestTenant.OBJECT_ID + " is not in the allowed object ids"));
  }

  @ParameterizedTest
  @MethodSource("rejectedRestrictions")
  void restrictionIsEnforced(List<String> subscriptions, List<String> groups,
      List<String> objectIds, String reason) throws Exception {
    String token = tenant.sign(TestTenant.claims(NOW).build());
    AzureTokenVerifier verifier = verifier(options(subscriptions, groups, objectIds));

    assertThatThrownBy(() -> verifier.verify(AzureToken.parse(token), NOW))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining(reason);
  }

  @Test
  void unknownKeyIdIsRejected() throws Exception {
    String token = TestTenant.sign(TestTenant.claims(NOW).build(), "unknown-kid",
        (RSAPrivateKey) tenant.key.getPrivate());
    AzureTokenVerifier verifier = verifier(options(List.of(), List.of(), List.of()));

    assertThatThrownBy(() -> verifier.verify(AzureToken.parse(token), NOW))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("key id unknown-kid");
  }

  @Test
  void signatureOfOtherKeyIsRejected() throws Exception {
    String token = TestTenant.sign(TestTenant.claims(NOW).build(), tenant.keyId,
        (RSAPrivateKey) AzureTestPki.rsa().getPrivate());
    AzureTokenVerifier verifier = verifier(options(List.of(), List.of(), List.of()));

    assertThatThrownBy(() -> verifier.verify(AzureToken.parse(token), NOW))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("signature does not verify");
  }

  @Test
  void algNoneIsRejected() {
    String token = new PlainJWT(TestTenant.claims(NOW).build()).serialize();
    AzureTokenVerifier verifier = verifier(options(List.of(), List.of(), List.of()));

    assertThatThrownBy(() -> verifier.verify(AzureToken.parse(token), NOW))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("not a signed JWT");
  }

  @Test
  void hs256WithPublicKeyIsRejected() throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256)
        .keyID(tenant.keyId).build(), TestTenant.claims(NOW).build());
    jwt.sign(new MACSigner(tenant.key.getPublic().getEncoded()));
    AzureTokenVerifier verifier = verifier(options(List.of(), List.of(), List.of()));

    assertThatThrownBy(() -> verifier.verify(AzureToken.parse(jwt.serialize()), NOW))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("alg HS256 is not accepted, expected RS256");
  }

  @Test
  void rs512IsRejected() throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS512)
        .keyID(tenant.keyId).build(), TestTenant.claims(NOW).build());
    jwt.sign(new com.nimbusds.jose.crypto.RSASSASigner(tenant.key.getPrivate()));
    AzureTokenVerifier verifier = verifier(options(List.of(), List.of(), List.of()));

    assertThatThrownBy(() -> verifier.verify(AzureToken.parse(jwt.serialize()), NOW))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("alg RS512");
  }
}
