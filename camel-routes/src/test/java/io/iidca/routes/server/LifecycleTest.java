package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;

import com.fasterxml.jackson.databind.JsonNode;
import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.CaFiles;
import io.iidca.ca.pki.KeyFiles;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.pki.PossessionToken;
import io.iidca.ca.provisioner.AdminToken;
import io.iidca.routes.client.CaClient;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsTestSigner;
import io.iidca.testkit.pki.TestCa;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Revocation by the holder over mutual TLS and by the operator with an operator token, and the
 * operator's view and reset of registrations, against a real CA over HTTPS.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LifecycleTest {

  static final String ACCOUNT = "123456789042";

  @TempDir
  static Path directory;

  AwsTestSigner signer;
  TestCa ca;
  CaServer server;
  String caUrl;
  PrivateKey intermediateKey;

  @BeforeAll
  void startCa() throws Exception {
    signer = AwsTestSigner.generate();
    ca = TestCa.create(directory);
    String certificates = ca.writeCertificates("emulator", signer.certificates());
    ca.addProvisioner(new ProvisionerConfig("fleet", "AWS", Lifetime.DEFAULT, false, false,
        null, List.of(ACCOUNT), ProvisionerConfig.DEFAULT_AWS_FORMS, List.of(certificates)));
    ca.addProvisioner(new ProvisionerConfig("restartable", "AWS", Lifetime.DEFAULT, false,
        false, null, List.of(ACCOUNT), ProvisionerConfig.DEFAULT_AWS_FORMS,
        List.of(certificates), false, false, null, true));
    intermediateKey = KeyFiles.read(ca.files().resolve(CaFiles.INTERMEDIATE_KEY),
        TestCa.PASSWORD);
    CaRuntime runtime = CaRuntime.load(ca.files(), ca.config(), TestCa.PASSWORD,
        java.time.Clock.systemUTC());
    server = CaServer.start(runtime, ListenAddress.parse("127.0.0.1:0"));
    caUrl = "https://127.0.0.1:" + server.port();
  }

  @AfterAll
  void stopCa() {
    server.close();
  }

  record Held(X509Certificate certificate, KeyPair keys, AwsInstance instance) {}

  Held enroll(String provisioner, AwsInstance instance) throws Exception {
    SignRequestBuilder request = new SignRequestBuilder(signer, instance, caUrl, provisioner);
    CaClient.Response response = plain().post("/1.0/sign", request.body());
    assertThat(response.status()).as(response.message()).isEqualTo(201);
    return new Held(Pem.parseCertificates(response.body().get("crt").asText()
        .getBytes(StandardCharsets.US_ASCII)).get(0), request.keys(), instance);
  }

  CaClient plain() throws Exception {
    return new CaClient(URI.create(caUrl), ca.root(), Duration.ofSeconds(10));
  }

  CaClient presenting(Held held) throws Exception {
    return new CaClient(URI.create(caUrl), ca.root(), held.keys().getPrivate(),
        List.of(held.certificate(), server.runtime().issuer().certificate()),
        Duration.ofSeconds(10));
  }

  String operatorToken(String path) {
    return AdminToken.issue(intermediateKey, caUrl, path, Instant.now());
  }

  @Test
  void holderRevokesOwnCertificateOnce() throws Exception {
    Held held = enroll("fleet", AwsInstance.random(ACCOUNT, "us-east-1"));
    String serial = held.certificate().getSerialNumber().toString();

    CaClient.Response first = presenting(held).post("/1.0/revoke",
        Map.of("serial", serial, "reasonCode", 1));
    CaClient.Response second = presenting(held).post("/1.0/revoke",
        Map.of("serial", serial, "reasonCode", 1));

    assertThat(first.status()).isEqualTo(200);
    assertThat(server.runtime().store().findRevocation(held.certificate().getSerialNumber()
        .toString(16))).isPresent();
    assertThat(second.status()).isIn(400, 403);
    assertThat(presenting(held).post("/1.0/renew", Map.of()).status()).isEqualTo(403);
  }

  @Test
  void holderRevokesWithTokenAlone() throws Exception {
    Held held = enroll("fleet", AwsInstance.random(ACCOUNT, "us-east-1"));
    Map<String, Object> body = Map.of("serial", held.certificate().getSerialNumber()
        .toString(), "reasonCode", 1);
    String token = PossessionToken.issue(held.keys().getPrivate(), held.certificate(),
        caUrl + "/1.0/revoke", new ObjectMapper().writeValueAsBytes(body), Instant.now());

    CaClient.Response response = plain().post("/1.0/revoke", body, token);

    assertThat(response.status()).isEqualTo(200);
    assertThat(server.runtime().store().findRevocation(held.certificate().getSerialNumber()
        .toString(16)).orElseThrow().revokedBy()).isEqualTo("certificate holder");
  }

  @Test
  void holderCannotRevokeAnotherCertificate() throws Exception {
    Held mine = enroll("fleet", AwsInstance.random(ACCOUNT, "us-east-1"));
    Held other = enroll("fleet", AwsInstance.random(ACCOUNT, "us-east-1"));

    CaClient.Response response = presenting(mine).post("/1.0/revoke",
        Map.of("serial", other.certificate().getSerialNumber().toString()));

    assertThat(response.status()).isEqualTo(401);
    assertThat(server.runtime().store().findRevocation(other.certificate().getSerialNumber()
        .toString(16))).isEmpty();
  }

  @Test
  void operatorRevokesWithTokenOnlyOnce() throws Exception {
    Held held = enroll("fleet", AwsInstance.random(ACCOUNT, "us-east-1"));
    String token = operatorToken("/1.0/revoke");
    Map<String, Object> body = Map.of("serial", "0x" + held.certificate().getSerialNumber()
        .toString(16), "reasonCode", 4, "ott", token);

    assertThat(plain().post("/1.0/revoke", body).status()).isEqualTo(200);
    assertThat(plain().post("/1.0/revoke", body).status()).isEqualTo(401);
  }

  @Test
  void revocationWithoutAuthenticationIsRejected() throws Exception {
    Held held = enroll("fleet", AwsInstance.random(ACCOUNT, "us-east-1"));

    CaClient.Response response = plain().post("/1.0/revoke",
        Map.of("serial", held.certificate().getSerialNumber().toString()));

    assertThat(response.status()).isEqualTo(401);
  }

  @Test
  void unknownSerialIsNotFound() throws Exception {
    CaClient.Response response = plain().post("/1.0/revoke", Map.of("serial", "12345",
        "ott", operatorToken("/1.0/revoke")));

    assertThat(response.status()).isEqualTo(404);
  }

  @Test
  void tokenSignedByAnotherKeyIsRejected() throws Exception {
    Held held = enroll("fleet", AwsInstance.random(ACCOUNT, "us-east-1"));
    PrivateKey foreign = io.iidca.ca.pki.KeySpec.EC_P256.generate().getPrivate();

    CaClient.Response response = plain().post("/1.0/revoke", Map.of("serial",
        held.certificate().getSerialNumber().toString(), "ott",
        AdminToken.issue(foreign, caUrl, "/1.0/revoke", Instant.now())));

    assertThat(response.status()).isEqualTo(401);
  }

  @Test
  void resetAllowsExactlyOneMoreEnrollment() throws Exception {
    AwsInstance instance = AwsInstance.random(ACCOUNT, "us-east-1");
    enroll("fleet", instance);
    assertThat(plain().post("/1.0/sign", new SignRequestBuilder(signer, instance, caUrl,
        "fleet").body()).status()).isEqualTo(403);

    HttpResponse<String> reset = admin("POST", "/admin/instances/reset",
        "{\"provisioner\":\"fleet\",\"instanceId\":\"" + instance.instanceId() + "\"}");
    assertThat(reset.statusCode()).isEqualTo(200);

    assertThat(plain().post("/1.0/sign", new SignRequestBuilder(signer, instance, caUrl,
        "fleet").body()).status()).isEqualTo(201);
    assertThat(plain().post("/1.0/sign", new SignRequestBuilder(signer, instance, caUrl,
        "fleet").body()).status()).isEqualTo(403);
  }

  @Test
  void instanceListShowsRegistrationsAndSerials() throws Exception {
    AwsInstance instance = AwsInstance.random(ACCOUNT, "us-east-1");
    Held held = enroll("fleet", instance);

    HttpResponse<String> response = admin("GET", "/admin/instances?provisioner=fleet", null);

    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode instances = io.iidca.routes.server.Json.MAPPER.readTree(response.body())
        .get("instances");
    JsonNode entry = null;
    for (JsonNode candidate : instances) {
      if (candidate.get("instanceId").asText().equals(instance.instanceId())) {
        entry = candidate;
      }
    }
    assertThat(entry).isNotNull();
    assertThat(entry.get("account").asText()).isEqualTo(ACCOUNT);
    assertThat(entry.get("serials").get(0).asText())
        .isEqualTo(held.certificate().getSerialNumber().toString(16));
  }

  @Test
  void restartedInstanceEnrollsOncePerStart() throws Exception {
    AwsInstance first = AwsInstance.random(ACCOUNT, "us-east-1");
    enroll("restartable", first);
    AwsInstance restarted = new AwsInstance(ACCOUNT, "us-east-1", first.instanceId(),
        first.privateIp(), first.pendingTime().plus(Duration.ofMinutes(10)),
        first.instanceType(), first.imageId());

    int again = plain().post("/1.0/sign", new SignRequestBuilder(signer, first, caUrl,
        "restartable").body()).status();
    int afterRestart = plain().post("/1.0/sign", new SignRequestBuilder(signer, restarted,
        caUrl, "restartable").body()).status();
    int secondAfterRestart = plain().post("/1.0/sign", new SignRequestBuilder(signer,
        restarted, caUrl, "restartable").body()).status();

    assertThat(again).isEqualTo(403);
    assertThat(afterRestart).isEqualTo(201);
    assertThat(secondAfterRestart).isEqualTo(403);
  }

  @Test
  void currentCertificateAuthorizesReenrollment() throws Exception {
    AwsInstance instance = AwsInstance.random(ACCOUNT, "us-east-1");
    Held held = enroll("fleet", instance);

    CaClient.Response withCertificate = presenting(held).post("/1.0/sign",
        new SignRequestBuilder(signer, instance, caUrl, "fleet").body());
    CaClient.Response withoutCertificate = plain().post("/1.0/sign",
        new SignRequestBuilder(signer, instance, caUrl, "fleet").body());

    assertThat(withCertificate.status()).isEqualTo(201);
    assertThat(withoutCertificate.status()).isEqualTo(403);
  }

  HttpResponse<String> admin(String method, String path, String body) throws Exception {
    HttpClient http = HttpClient.newBuilder().sslContext(CaClient.pinnedContext(ca.root()))
        .build();
    return http.send(HttpRequest.newBuilder(URI.create(caUrl + path))
        .header("Authorization", "Bearer " + operatorToken("/admin"))
        .header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
  }
}
