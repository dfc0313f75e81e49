package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.pki.PossessionToken;
import io.iidca.ca.store.CertificateRecord;
import io.iidca.ca.testing.MutableClock;
import io.iidca.routes.client.CaClient;
import io.iidca.routes.client.CsrBuilder;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsTestSigner;
import io.iidca.testkit.pki.TestCa;
import java.math.BigInteger;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.RSAPrivateKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * Renewal and rekey over real mutual TLS: the client presents the certificate it holds, and the
 * CA issues a new one with the same names. Without a certificate in TLS, a possession token
 * signed with the certificate's key does the same, once, for one body. A mutable clock reaches
 * expiry and the re-attestation horizon without waiting.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RenewalTest {

  static final String ACCOUNT = "123456789042";

  @TempDir
  static Path directory;

  MutableClock clock = new MutableClock();
  AwsTestSigner signer;
  TestCa ca;
  CaServer server;
  String caUrl;
  ListAppender<ILoggingEvent> audit = new ListAppender<>();

  @BeforeAll
  void startCa() throws Exception {
    signer = AwsTestSigner.generate();
    ca = TestCa.create(directory);
    String certificates = ca.writeCertificates("emulator", signer.certificates());
    add("renewable", false, false, null, certificates);
    add("no-renewal", true, false, null, certificates);
    add("after-expiry", false, true, null, certificates);
    add("horizon", false, false, Duration.ofDays(7), certificates);
    CaRuntime runtime = CaRuntime.load(ca.files(), ca.config(), TestCa.PASSWORD, clock);
    server = CaServer.start(runtime, ListenAddress.parse("127.0.0.1:0"));
    caUrl = "https://127.0.0.1:" + server.port();
    audit.start();
    ((Logger) LoggerFactory.getLogger("iidca.audit")).addAppender(audit);
  }

  void add(String name, boolean disableRenewal, boolean afterExpiry, Duration horizon,
      String certificates) throws Exception {
    ca.addProvisioner(new ProvisionerConfig(name, "AWS", Lifetime.DEFAULT, false, false, null,
        List.of(ACCOUNT), ProvisionerConfig.DEFAULT_AWS_FORMS, List.of(certificates),
        disableRenewal, afterExpiry, horizon, false));
  }

  @AfterAll
  void stopCa() {
    ((Logger) LoggerFactory.getLogger("iidca.audit")).detachAppender(audit);
    server.close();
  }

  /** Returns the last audit line, which has the reason: clients get a fixed message for 401. */
  String lastAuditReason() {
    assertThat(audit.list).isNotEmpty();
    return audit.list.get(audit.list.size() - 1).getFormattedMessage();
  }

  /** A certificate enrolled through the sign pipeline, with its key. */
  record Held(X509Certificate certificate, KeyPair keys) {}

  Held enroll(String provisioner) throws Exception {
    SignRequestBuilder request = new SignRequestBuilder(signer,
        AwsInstance.random(ACCOUNT, "us-east-1"), caUrl, provisioner)
        .sans(List.of("app.internal", "api.internal"));
    Map<String, Object> body = request.body();
    CaClient.Response response = new CaClient(URI.create(caUrl), ca.root(),
        Duration.ofSeconds(10)).post("/1.0/sign", body);
    assertThat(response.status()).isEqualTo(201);
    return new Held(parse(response.body().get("crt").asText()), request.keys());
  }

  CaClient presenting(Held held) throws Exception {
    return new CaClient(URI.create(caUrl), ca.root(), held.keys().getPrivate(),
        List.of(held.certificate(), server.runtime().issuer().certificate()),
        Duration.ofSeconds(10));
  }

  @Test
  void renewalKeepsNamesKeyAndLifetime() throws Exception {
    Held held = enroll("renewable");

    CaClient.Response response = presenting(held).post("/1.0/renew", Map.of());

    assertThat(response.status()).isEqualTo(201);
    X509Certificate renewed = parse(response.body().get("crt").asText());
    assertThat(renewed.getSerialNumber()).isNotEqualTo(held.certificate().getSerialNumber());
    assertThat(renewed.getSubjectX500Principal())
        .isEqualTo(held.certificate().getSubjectX500Principal());
    assertThat(List.copyOf(renewed.getSubjectAlternativeNames()))
        .isEqualTo(List.copyOf(held.certificate().getSubjectAlternativeNames()));
    assertThat(renewed.getPublicKey()).isEqualTo(held.certificate().getPublicKey());
    assertThat(Duration.between(renewed.getNotBefore().toInstant(),
        renewed.getNotAfter().toInstant())).isEqualTo(Duration.between(
            held.certificate().getNotBefore().toInstant(),
            held.certificate().getNotAfter().toInstant()));
    CertificateRecord record = server.runtime().store()
        .findCertificate(renewed.getSerialNumber().toString(16)).orElseThrow();
    assertThat(record.renewedFrom()).isEqualTo(held.certificate().getSerialNumber()
        .toString(16));
  }

  @Test
  void renewedCertificateRenewsAgain() throws Exception {
    Held held = enroll("renewable");
    X509Certificate renewed = parse(presenting(held).post("/1.0/renew", Map.of()).body()
        .get("crt").asText());

    CaClient.Response again = presenting(new Held(renewed, held.keys()))
        .post("/renew", Map.of());

    assertThat(again.status()).isEqualTo(201);
  }

  @Test
  void rekeyUsesTheNewKey() throws Exception {
    Held held = enroll("renewable");
    KeyPair next = KeySpec.EC_P256.generate();
    String csr = CsrBuilder.build(next, "whatever.internal", List.of());

    CaClient.Response response = presenting(held).post("/1.0/rekey", Map.of("csr", csr));

    assertThat(response.status()).isEqualTo(201);
    X509Certificate rekeyed = parse(response.body().get("crt").asText());
    assertThat(rekeyed.getPublicKey()).isEqualTo(next.getPublic());
    assertThat(rekeyed.getSubjectX500Principal())
        .isEqualTo(held.certificate().getSubjectX500Principal());
  }

  @Test
  void revokedCertificateIsNotRenewed() throws Exception {
    Held held = enroll("renewable");
    server.runtime().store().revoke(held.certificate().getSerialNumber().toString(16), 1,
        "key compromise", "operator", clock.instant());
    long before = server.runtime().store().countCertificates();

    CaClient.Response response = presenting(held).post("/1.0/renew", Map.of());

    assertThat(response.status()).isEqualTo(403);
    assertThat(response.message()).contains("revoked");
    assertThat(server.runtime().store().countCertificates()).isEqualTo(before);
  }

  /** Renews {@code held} and returns the new certificate, with the same key. */
  Held renew(Held held) throws Exception {
    CaClient.Response response = presenting(held).post("/1.0/renew", Map.of());
    assertThat(response.status()).as(response.message()).isEqualTo(201);
    return new Held(parse(response.body().get("crt").asText()), held.keys());
  }

  /** Revokes {@code held} as its holder does with {@code iidca revoke --cert --key}. */
  void revokeAsHolder(Held held, int reasonCode) throws Exception {
    CaClient.Response response = presenting(held).post("/1.0/revoke", Map.of("serial",
        held.certificate().getSerialNumber().toString(), "reasonCode", reasonCode));
    assertThat(response.status()).as(response.message()).isEqualTo(200);
  }

  static String hex(Held held) {
    return held.certificate().getSerialNumber().toString(16);
  }

  @Test
  void renewalWithCompromisedKeyIsDenied() throws Exception {
    Held first = enroll("renewable");
    Held second = renew(first);
    revokeAsHolder(second, 1);
    long before = server.runtime().store().countCertificates();

    CaClient.Response response = presenting(first).post("/1.0/renew", Map.of());

    assertThat(response.status()).isEqualTo(403);
    assertThat(response.message()).contains("the key of certificate " + hex(first),
        "certificate " + hex(second) + " with this key was revoked for keyCompromise",
        "enroll again with a new key");
    assertThat(server.runtime().store().countCertificates()).isEqualTo(before);
  }

  /** An attacker with the stolen key could send the same rekey, so the key authorizes none. */
  @Test
  void rekeyAuthenticatedByCompromisedKeyIsDenied() throws Exception {
    Held first = enroll("renewable");
    Held second = renew(first);
    revokeAsHolder(second, 1);
    long before = server.runtime().store().countCertificates();
    String csr = CsrBuilder.build(KeySpec.EC_P256.generate(), "app.internal", List.of());

    CaClient.Response response = presenting(first).post("/1.0/rekey", Map.of("csr", csr));

    assertThat(response.status()).isEqualTo(403);
    assertThat(response.message()).contains("the key of certificate " + hex(first),
        "certificate " + hex(second) + " with this key was revoked for keyCompromise");
    assertThat(server.runtime().store().countCertificates()).isEqualTo(before);
  }

  @Test
  void rekeyToCompromisedKeyIsDenied() throws Exception {
    Held compromised = enroll("renewable");
    revokeAsHolder(compromised, 1);
    Held held = enroll("renewable");
    long before = server.runtime().store().countCertificates();
    String csr = CsrBuilder.build(compromised.keys(), "app.internal", List.of());

    CaClient.Response response = presenting(held).post("/1.0/rekey", Map.of("csr", csr));

    assertThat(response.status()).isEqualTo(403);
    assertThat(response.message()).contains("the CSR's key", "certificate " + hex(compromised)
        + " with this key was revoked for keyCompromise", "rekey with a CSR for a new key");
    assertThat(server.runtime().store().countCertificates()).isEqualTo(before);
  }

  /** Covers every CRLReason of RFC 5280 except keyCompromise (1) and the unassigned 7. */
  @ParameterizedTest
  @ValueSource(ints = {0, 2, 3, 4, 5, 6, 8, 9, 10})
  void keyRevokedForOtherReasonRenewsAndRekeys(int reasonCode) throws Exception {
    Held first = enroll("renewable");
    Held second = renew(first);
    revokeAsHolder(second, reasonCode);
    Held other = enroll("renewable");
    String csr = CsrBuilder.build(first.keys(), "app.internal", List.of());

    CaClient.Response renewed = presenting(first).post("/1.0/renew", Map.of());
    CaClient.Response rekeyed = presenting(other).post("/1.0/rekey", Map.of("csr", csr));

    assertThat(renewed.status()).as(renewed.message()).isEqualTo(201);
    assertThat(rekeyed.status()).as(rekeyed.message()).isEqualTo(201);
  }

  @Test
  void renewalWithoutClientCertificateIsRejected() throws Exception {
    CaClient.Response response = new CaClient(URI.create(caUrl), ca.root(),
        Duration.ofSeconds(10)).post("/1.0/renew", Map.of());

    assertThat(response.status()).isEqualTo(401);
  }

  /** Returns a certificate with the same names from another CA, made in {@code folder}. */
  Held foreign(String folder) throws Exception {
    TestCa other = TestCa.create(directory.resolve(folder));
    KeyPair keys = KeySpec.EC_P256.generate();
    var runtime = CaRuntime.load(other.files(), other.config(), TestCa.PASSWORD, clock);
    try {
      return new Held(runtime.issuer().issue(new io.iidca.ca.pki.CertificateTemplate(
          "app.internal", List.of("app.internal"), keys.getPublic(), clock.instant(),
          clock.instant().plus(Duration.ofHours(1)), null)), keys);
    } finally {
      runtime.close();
    }
  }

  /**
   * Returns a certificate of this CA for {@code keys} and {@code sans}, recorded as one issued
   * before the CA's policy denied its name or key.
   */
  Held recorded(KeyPair keys, List<String> sans) throws Exception {
    AwsInstance instance = AwsInstance.random(ACCOUNT, "us-east-1");
    var issuer = server.runtime().issuer();
    X509Certificate certificate = issuer.issue(new io.iidca.ca.pki.CertificateTemplate(
        "app.internal", sans, keys.getPublic(), clock.instant(),
        clock.instant().plus(Duration.ofHours(1)), new io.iidca.ca.pki.IidcaExtension("AWS",
            "renewable", instance.instanceId(), ACCOUNT)));
    server.runtime().store().record(new io.iidca.ca.store.Issuance(
        certificate.getSerialNumber().toString(16), "renewable", instance.instanceId(),
        ACCOUNT, "app.internal", sans, certificate.getNotBefore().toInstant(),
        certificate.getNotAfter().toInstant(), io.iidca.ca.pki.Fingerprints.of(keys.getPublic()),
        Pem.encode(certificate), clock.instant(), false, null, null, null));
    return new Held(certificate, keys);
  }

  @Test
  void certificateWithCaNameIsNotRenewed() throws Exception {
    Held held = recorded(KeySpec.EC_P256.generate(), List.of("app.internal", "localhost"));

    CaClient.Response response = presenting(held).post("/1.0/renew", Map.of());

    assertThat(response.status()).as(response.message()).isEqualTo(403);
    assertThat(response.message()).contains("localhost", "is a name of this CA");
  }

  /**
   * Covers an RSA key with the public exponent 1, for which anyone can sign, so that the
   * certificate authenticates nothing: neither a renewal nor a rekey to a new key. TLS engines
   * reject the key in a handshake, so the request carries a possession token.
   */
  @ParameterizedTest
  @ValueSource(strings = {"/1.0/renew", "/1.0/rekey"})
  void exponentOneCertificateIsRejected(String path) throws Exception {
    BigInteger modulus = ((RSAPublicKey) KeySpec.of("RSA", null, 2048).generate().getPublic())
        .getModulus();
    KeyFactory factory = KeyFactory.getInstance("RSA");
    KeyPair exponentOne = new KeyPair(
        factory.generatePublic(new RSAPublicKeySpec(modulus, BigInteger.ONE)),
        factory.generatePrivate(new RSAPrivateKeySpec(modulus, BigInteger.ONE)));
    Held held = recorded(exponentOne, List.of("app.internal"));
    KeyPair fresh = KeySpec.EC_P256.generate();
    Map<String, Object> body = path.endsWith("rekey")
        ? Map.of("csr", CsrBuilder.build(fresh, "app.internal", List.of())) : Map.of();

    CaClient.Response response = withToken(path, body,
        token(held, exponentOne.getPrivate(), path, body));

    assertThat(response.status()).as(response.message()).isEqualTo(403);
    assertThat(response.message()).contains("RSA public exponent 1 is not allowed");
  }

  @Test
  void foreignCertificateIsRejected() throws Exception {
    CaClient.Response response = presenting(foreign("other")).post("/1.0/renew", Map.of());

    assertThat(response.status()).isEqualTo(401);
  }

  @Test
  void provisionerWithoutRenewalRefuses() throws Exception {
    CaClient.Response response = presenting(enroll("no-renewal")).post("/1.0/renew", Map.of());

    assertThat(response.status()).isEqualTo(403);
    assertThat(response.message()).contains("does not allow renewal");
  }

  @Test
  void expiredCertificateRenewsOnlyWhereAllowed() throws Exception {
    Held strict = enroll("renewable");
    Held lenient = enroll("after-expiry");
    clock.advance(Duration.ofHours(25));
    try {
      CaClient.Response refused = presenting(strict).post("/1.0/renew", Map.of());
      CaClient.Response allowed = presenting(lenient).post("/1.0/renew", Map.of());

      assertThat(refused.status()).isEqualTo(403);
      assertThat(refused.message()).contains("expired");
      assertThat(allowed.status()).isEqualTo(201);
    } finally {
      clock.advance(Duration.ofHours(-25));
    }
  }

  @Test
  void reattestationHorizonStopsRenewalChain() throws Exception {
    Held held = enroll("horizon");
    try {
      Held current = held;
      // Eight renewals 20 hours apart stay within the 7-day horizon (160 h); the ninth is at
      // 180 h and must be refused.
      for (int day = 0; day < 8; day++) {
        clock.advance(Duration.ofHours(20));
        CaClient.Response renewed = presenting(current).post("/1.0/renew", Map.of());
        assertThat(renewed.status()).as("day " + day).isEqualTo(201);
        current = new Held(parse(renewed.body().get("crt").asText()), held.keys());
      }
      clock.advance(Duration.ofHours(20));

      CaClient.Response refused = presenting(current).post("/1.0/renew", Map.of());

      assertThat(refused.status()).isEqualTo(403);
      assertThat(refused.message()).contains("fresh identity document");
    } finally {
      clock.advance(Duration.ofHours(-180));
    }
  }

  /** Returns the body's bytes as {@link CaClient} sends them, for a token over those bytes. */
  static byte[] bytes(Map<String, Object> body) throws Exception {
    return new ObjectMapper().writeValueAsBytes(body);
  }

  String token(Held held, PrivateKey signingKey, String path, Map<String, Object> body)
      throws Exception {
    return PossessionToken.issue(signingKey, held.certificate(), caUrl + path, bytes(body),
        clock.instant());
  }

  /** Sends {@code body} with {@code token} and without a client certificate in TLS. */
  CaClient.Response withToken(String path, Map<String, Object> body, String token)
      throws Exception {
    return new CaClient(URI.create(caUrl), ca.root(), Duration.ofSeconds(10)).post(path, body,
        token);
  }

  @Test
  void tokenRenewsWithoutTlsCertificate() throws Exception {
    SignRequestBuilder request = new SignRequestBuilder(signer,
        AwsInstance.random(ACCOUNT, "us-east-1"), caUrl, "renewable")
        .keySpec(KeySpec.of("OKP", "Ed25519", null)).sans(List.of("app.internal"));
    CaClient.Response enrolled = new CaClient(URI.create(caUrl), ca.root(),
        Duration.ofSeconds(10)).post("/1.0/sign", request.body());
    Held held = new Held(parse(enrolled.body().get("crt").asText()), request.keys());

    CaClient.Response response = withToken("/1.0/renew", Map.of(),
        token(held, held.keys().getPrivate(), "/1.0/renew", Map.of()));

    assertThat(response.status()).isEqualTo(201);
    X509Certificate renewed = parse(response.body().get("crt").asText());
    assertThat(renewed.getPublicKey()).isEqualTo(held.certificate().getPublicKey());
    assertThat(server.runtime().store().findCertificate(renewed.getSerialNumber()
        .toString(16)).orElseThrow().renewedFrom())
        .isEqualTo(held.certificate().getSerialNumber().toString(16));
  }

  @Test
  void tokenActsOnce() throws Exception {
    Held held = enroll("renewable");
    Map<String, Object> body = Map.of("csr", CsrBuilder.build(KeySpec.EC_P256.generate(),
        "app.internal", List.of()));
    String token = token(held, held.keys().getPrivate(), "/1.0/rekey", body);
    assertThat(withToken("/1.0/rekey", body, token).status()).isEqualTo(201);
    long before = server.runtime().store().countCertificates();

    CaClient.Response replay = withToken("/1.0/rekey", body, token);

    assertThat(replay.status()).isEqualTo(401);
    assertThat(lastAuditReason()).contains("already used");
    assertThat(server.runtime().store().countCertificates()).isEqualTo(before);
  }

  @Test
  void tokenForOtherCsrIsRejected() throws Exception {
    Held held = enroll("renewable");
    Map<String, Object> signed = Map.of("csr", CsrBuilder.build(KeySpec.EC_P256.generate(),
        "app.internal", List.of()));
    Map<String, Object> swapped = Map.of("csr", CsrBuilder.build(KeySpec.EC_P256.generate(),
        "app.internal", List.of()));
    long before = server.runtime().store().countCertificates();

    CaClient.Response response = withToken("/1.0/rekey", swapped,
        token(held, held.keys().getPrivate(), "/1.0/rekey", signed));

    assertThat(response.status()).isEqualTo(401);
    assertThat(lastAuditReason()).contains("body_sha256");
    assertThat(server.runtime().store().countCertificates()).isEqualTo(before);
  }

  @Test
  void forgedTokenKeepsHolderRenewing() throws Exception {
    Held held = enroll("renewable");
    KeyPair attacker = KeySpec.EC_P256.generate();
    long before = server.runtime().store().countCertificates();

    CaClient.Response forged = withToken("/1.0/renew", Map.of(),
        token(held, attacker.getPrivate(), "/1.0/renew", Map.of()));

    assertThat(forged.status()).isEqualTo(401);
    assertThat(lastAuditReason()).contains("not signed by the key of certificate");
    assertThat(server.runtime().store().countCertificates()).isEqualTo(before);
    assertThat(withToken("/1.0/renew", Map.of(),
        token(held, held.keys().getPrivate(), "/1.0/renew", Map.of())).status())
        .isEqualTo(201);
  }

  @Test
  void tokenForForeignCertificateIsRejected() throws Exception {
    Held foreign = foreign("other-token");

    CaClient.Response response = withToken("/1.0/renew", Map.of(),
        token(foreign, foreign.keys().getPrivate(), "/1.0/renew", Map.of()));

    assertThat(response.status()).isEqualTo(401);
    assertThat(lastAuditReason()).contains("not issued by this CA's intermediate");
  }

  @Test
  void tokenForOtherEndpointIsRejected() throws Exception {
    Held held = enroll("renewable");

    CaClient.Response response = withToken("/1.0/rekey", Map.of(),
        token(held, held.keys().getPrivate(), "/1.0/renew", Map.of()));

    assertThat(response.status()).isEqualTo(401);
    assertThat(lastAuditReason()).contains("is not this CA's /1.0/rekey");
  }

  static X509Certificate parse(String pem) throws Exception {
    return Pem.parseCertificates(pem.getBytes(StandardCharsets.US_ASCII)).get(0);
  }
}
