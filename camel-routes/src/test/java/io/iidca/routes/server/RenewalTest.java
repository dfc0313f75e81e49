package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.store.CertificateRecord;
import io.iidca.ca.testing.MutableClock;
import io.iidca.routes.client.CaClient;
import io.iidca.routes.client.CsrBuilder;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsTestSigner;
import io.iidca.testkit.pki.TestCa;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Renewal and rekey over real mutual TLS: the client presents the certificate it holds, and the
 * CA issues a new one with the same names. A mutable clock reaches expiry and the
 * re-attestation horizon without waiting.
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
  }

  void add(String name, boolean disableRenewal, boolean afterExpiry, Duration horizon,
      String certificates) throws Exception {
    ca.addProvisioner(new ProvisionerConfig(name, "AWS", Lifetime.DEFAULT, false, false, null,
        List.of(ACCOUNT), ProvisionerConfig.DEFAULT_AWS_FORMS, List.of(certificates),
        disableRenewal, afterExpiry, horizon, false));
  }

  @AfterAll
  void stopCa() {
    server.close();
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

  @Test
  void renewalWithoutClientCertificateIsRejected() throws Exception {
    CaClient.Response response = new CaClient(URI.create(caUrl), ca.root(),
        Duration.ofSeconds(10)).post("/1.0/renew", Map.of());

    assertThat(response.status()).isEqualTo(401);
  }

  @Test
  void foreignCertificateIsRejected() throws Exception {
    Held held = enroll("renewable");
    TestCa other = TestCa.create(directory.resolve("other"));
    KeyPair keys = KeySpec.EC_P256.generate();
    var runtime = CaRuntime.load(other.files(), other.config(), TestCa.PASSWORD, clock);
    X509Certificate foreign;
    try {
      foreign = runtime.issuer().issue(new io.iidca.ca.pki.CertificateTemplate("app.internal",
          List.of("app.internal"), keys.getPublic(), clock.instant(),
          clock.instant().plus(Duration.ofHours(1)), null));
    } finally {
      runtime.close();
    }

    CaClient.Response response = presenting(new Held(foreign, keys)).post("/1.0/renew",
        Map.of());

    assertThat(response.status()).isEqualTo(401);
    assertThat(held).isNotNull();
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

  static X509Certificate parse(String pem) throws Exception {
    return Pem.parseCertificates(pem.getBytes(StandardCharsets.US_ASCII)).get(0);
  }
}
