package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iidca.ca.aws.AwsSignatureForm;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.Fingerprints;
import io.iidca.ca.pki.IidcaExtension;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.store.CertificateRecord;
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
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * The sign pipeline over real HTTPS: a CA created as {@code iidca init} creates one, the
 * emulator's test signer trusted through {@code awsCertificates}, requests built as a client
 * on an instance would build them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SignPipelineTest {

  static final String ACCOUNT = "123456789042";
  static final String PROVISIONER = "AWS IID Provisioner";
  static final String STRICT = "strict";
  static final String REPEATABLE = "repeatable";

  @TempDir
  static Path directory;

  AwsTestSigner signer;
  CaServer server;
  CaClient client;
  String caUrl;
  ListAppender<ILoggingEvent> audit;

  @BeforeAll
  void startCa() throws Exception {
    signer = AwsTestSigner.generate();
    TestCa ca = TestCa.create(directory);
    String emulatorCertificates = ca.writeCertificates("emulator", signer.certificates());
    ca.addProvisioner(new ProvisionerConfig(PROVISIONER, "AWS",
        io.iidca.ca.config.Lifetime.DEFAULT, false, false, null, List.of(ACCOUNT),
        ProvisionerConfig.DEFAULT_AWS_FORMS, List.of(emulatorCertificates)));
    ca.addProvisioner(new ProvisionerConfig(STRICT, "AWS",
        io.iidca.ca.config.Lifetime.DEFAULT, true, false, Duration.ofHours(1),
        List.of(ACCOUNT), List.of("rsa2048"), List.of(emulatorCertificates)));
    ca.addProvisioner(new ProvisionerConfig(REPEATABLE, "AWS",
        io.iidca.ca.config.Lifetime.DEFAULT, false, true, null, List.of(ACCOUNT),
        ProvisionerConfig.DEFAULT_AWS_FORMS, List.of(emulatorCertificates)));
    CaRuntime runtime = CaRuntime.load(ca.files(), ca.config(), TestCa.PASSWORD,
        Clock.systemUTC());
    server = CaServer.start(runtime, ListenAddress.parse("127.0.0.1:0"));
    caUrl = "https://127.0.0.1:" + server.port();
    client = new CaClient(URI.create(caUrl), ca.root(), Duration.ofSeconds(5));
    audit = new ListAppender<>();
    audit.start();
    ((Logger) LoggerFactory.getLogger("iidca.audit")).addAppender(audit);
  }

  @AfterAll
  void stopCa() {
    server.close();
  }

  @BeforeEach
  void clearAudit() {
    audit.list.clear();
  }

  AwsInstance newInstance() {
    return AwsInstance.random(ACCOUNT, "us-east-1");
  }

  SignRequestBuilder request(AwsInstance instance) {
    return new SignRequestBuilder(signer, instance, caUrl, PROVISIONER);
  }

  @Test
  void validRequestIssuesRecordedCertificate() throws Exception {
    AwsInstance instance = newInstance();
    CaClient.Response response = client.post("/1.0/sign", request(instance)
        .subject("app.internal").sans(List.of("app.internal", "api.internal")).body());

    assertThat(response.status()).isEqualTo(201);
    X509Certificate certificate = parse(response.body().get("crt").asText());
    assertThat(certificate.getSubjectX500Principal().getName()).isEqualTo("CN=app.internal");
    assertThat(sans(certificate)).containsExactly("app.internal", "api.internal",
        "ip-" + instance.privateIp().replace('.', '-') + ".ec2.internal", instance.privateIp());
    assertThat(certificate.getBasicConstraints()).isEqualTo(-1);
    assertThat(certificate.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1",
        "1.3.6.1.5.5.7.3.2");
    assertThat(Duration.between(certificate.getNotBefore().toInstant(),
        certificate.getNotAfter().toInstant())).isEqualTo(Duration.ofHours(24).plusMinutes(1));
    assertThat(certificate.getSerialNumber().bitLength()).isGreaterThanOrEqualTo(64);
    assertThat(IidcaExtension.from(certificate)).contains(new IidcaExtension("AWS", PROVISIONER,
        instance.instanceId(), ACCOUNT));
    assertThat(response.body().get("certChain")).hasSize(2);
    assertThat(response.body().get("ca").asText()).contains("BEGIN CERTIFICATE");

    var store = server.runtime().store();
    assertThat(store.findCertificate(certificate.getSerialNumber().toString(16))).isPresent();
    assertThat(store.findRegistration(PROVISIONER, instance.instanceId())).isPresent();
  }

  @Test
  void legacyPathWithoutVersionPrefixSigns() throws Exception {
    CaClient.Response response = client.post("/sign", request(newInstance()).body());

    assertThat(response.status()).isEqualTo(201);
  }

  @Test
  void signatureFormIsAcceptedAsStepSendsIt() throws Exception {
    CaClient.Response response = client.post("/1.0/sign", request(newInstance())
        .form(AwsSignatureForm.SIGNATURE).body());

    assertThat(response.status()).isEqualTo(201);
  }

  @Test
  void rsaAndEd25519KeysAreAccepted() throws Exception {
    for (KeySpec spec : List.of(KeySpec.of("RSA", null, 2048), KeySpec.of("OKP", null, null),
        KeySpec.of("EC", "P-384", null))) {
      CaClient.Response response = client.post("/1.0/sign", request(newInstance())
          .keySpec(spec).body());
      assertThat(response.status()).as(spec.toString()).isEqualTo(201);
    }
  }

  /** Enrolls a new instance with {@code keys} and returns the certificate's serial in hex. */
  String enrollWithKeys(KeyPair keys) throws Exception {
    CaClient.Response response = client.post("/1.0/sign", request(newInstance()).keys(keys)
        .body());
    assertThat(response.status()).as(response.message()).isEqualTo(201);
    return parse(response.body().get("crt").asText()).getSerialNumber().toString(16);
  }

  @Test
  void csrWithCompromisedKeyIsDenied() throws Exception {
    KeyPair keys = KeySpec.EC_P256.generate();
    String revoked = enrollWithKeys(keys);
    server.runtime().store().revoke(revoked, 1, "key leaked", "operator", Instant.now());
    long certificates = server.runtime().store().countCertificates();

    CaClient.Response response = client.post("/1.0/sign", request(newInstance()).keys(keys)
        .body());

    assertThat(response.status()).isEqualTo(403);
    assertThat(response.message()).contains("the CSR's key", "certificate " + revoked
        + " with this key was revoked for keyCompromise", "generate a new key pair");
    assertThat(server.runtime().store().countCertificates()).isEqualTo(certificates);
    assertThat(lastAudit()).contains("outcome=rejected", "status=403", "stage=policy",
        "keyCompromise");
  }

  /** Covers every CRLReason of RFC 5280 except keyCompromise (1) and the unassigned 7. */
  @ParameterizedTest
  @ValueSource(ints = {0, 2, 3, 4, 5, 6, 8, 9, 10})
  void csrWithKeyRevokedForOtherReasonIsSigned(int reasonCode) throws Exception {
    KeyPair keys = KeySpec.EC_P256.generate();
    String revoked = enrollWithKeys(keys);
    server.runtime().store().revoke(revoked, reasonCode, "", "operator", Instant.now());

    CaClient.Response response = client.post("/1.0/sign", request(newInstance()).keys(keys)
        .body());

    assertThat(response.status()).as(response.message()).isEqualTo(201);
  }

  @Test
  void secondEnrollmentOfInstanceIsDeniedWithExplanation() throws Exception {
    AwsInstance instance = newInstance();
    assertThat(client.post("/1.0/sign", request(instance).body()).status()).isEqualTo(201);
    long certificates = server.runtime().store().countCertificates();

    CaClient.Response second = client.post("/1.0/sign", request(instance).body());

    assertThat(second.status()).isEqualTo(403);
    assertThat(second.message()).contains(instance.instanceId(), "already enrolled",
        "reset");
    assertThat(server.runtime().store().countCertificates()).isEqualTo(certificates);
  }

  @Test
  void otherKeyReplayIsRejected() throws Exception {
    AwsInstance instance = newInstance();
    Map<String, Object> first = new SignRequestBuilder(signer, instance, caUrl, REPEATABLE)
        .body();
    assertThat(client.post("/1.0/sign", first).status()).isEqualTo(201);
    long certificates = server.runtime().store().countCertificates();

    CaClient.Response replay = client.post("/1.0/sign", Map.of("csr",
        new SignRequestBuilder(signer, instance, caUrl, REPEATABLE).csr(),
        "ott", first.get("ott")));

    assertThat(replay.status()).isEqualTo(401);
    assertThat(server.runtime().store().countCertificates()).isEqualTo(certificates);
    assertThat(lastAudit()).contains("stage=record", "already used");
  }

  @Test
  void repeatWithoutRegistrationGetsSameCertificate() throws Exception {
    Map<String, Object> body = new SignRequestBuilder(signer, newInstance(), caUrl,
        REPEATABLE).body();
    CaClient.Response first = client.post("/1.0/sign", body);
    long certificates = server.runtime().store().countCertificates();

    CaClient.Response repeat = client.post("/1.0/sign", body);

    assertThat(repeat.status()).as(repeat.message()).isEqualTo(201);
    assertThat(repeat.body().get("crt").asText()).isEqualTo(first.body().get("crt").asText());
    assertThat(repeat.body().get("certChain")).hasSize(2);
    assertThat(server.runtime().store().countCertificates()).isEqualTo(certificates);
    assertThat(lastAudit()).contains("outcome=issued_earlier", "serial="
        + parse(first.body().get("crt").asText()).getSerialNumber().toString(16));
  }

  @Test
  void freshTokensEnrollRepeatedlyWithoutTrustOnFirstUse() throws Exception {
    AwsInstance instance = newInstance();
    for (int i = 0; i < 3; i++) {
      CaClient.Response response = client.post("/1.0/sign",
          new SignRequestBuilder(signer, instance, caUrl, REPEATABLE).body());
      assertThat(response.status()).isEqualTo(201);
    }

    assertThat(server.runtime().store().certificatesOf(REPEATABLE, instance.instanceId()))
        .hasSize(3);
    assertThat(server.runtime().store().findRegistration(REPEATABLE, instance.instanceId()))
        .isEmpty();
  }

  @Test
  void repeatGetsSameCertificate() throws Exception {
    AwsInstance instance = newInstance();
    Map<String, Object> body = request(instance).sans(List.of("app.internal")).body();
    CaClient.Response first = client.post("/1.0/sign", body);
    long certificates = server.runtime().store().countCertificates();

    CaClient.Response repeat = client.post("/1.0/sign", body);

    assertThat(repeat.status()).as(repeat.message()).isEqualTo(201);
    assertThat(repeat.body().get("crt").asText()).isEqualTo(first.body().get("crt").asText());
    assertThat(server.runtime().store().countCertificates()).isEqualTo(certificates);
    assertThat(server.runtime().store().findRegistration(PROVISIONER, instance.instanceId())
        .orElseThrow().enrollments()).isEqualTo(1);
    assertThat(lastAudit()).contains("outcome=issued_earlier", "status=201");
  }

  @ParameterizedTest
  @ValueSource(strings = {PROVISIONER, REPEATABLE})
  void concurrentRepeatsGetOneCertificate(String provisioner) throws Exception {
    AwsInstance instance = newInstance();
    Map<String, Object> body = new SignRequestBuilder(signer, instance, caUrl, provisioner)
        .body();
    List<CompletableFuture<CaClient.Response>> sent = Stream.generate(() ->
        CompletableFuture.supplyAsync(() -> {
          try {
            return client.post("/1.0/sign", body);
          } catch (Exception e) {
            throw new CompletionException(e);
          }
        })).limit(8).toList();

    List<CaClient.Response> responses = sent.stream().map(CompletableFuture::join).toList();

    List<CertificateRecord> recorded = server.runtime().store().certificatesOf(provisioner,
        instance.instanceId());
    assertThat(recorded).hasSize(1);
    for (CaClient.Response response : responses) {
      assertThat(response.status()).as(response.message()).isEqualTo(201);
      assertThat(parse(response.body().get("crt").asText()).getSerialNumber().toString(16))
          .isEqualTo(recorded.get(0).serial());
    }
  }

  @Test
  void otherKeyReplayOfEnrolledIsDenied() throws Exception {
    AwsInstance instance = newInstance();
    String jti = UUID.randomUUID().toString();
    assertThat(client.post("/1.0/sign", request(instance).jti(jti).body()).status())
        .isEqualTo(201);
    long certificates = server.runtime().store().countCertificates();

    CaClient.Response replay = client.post("/1.0/sign", request(instance).jti(jti).body());

    assertThat(replay.status()).isEqualTo(403);
    assertThat(replay.message()).contains("already enrolled");
    assertThat(server.runtime().store().countCertificates()).isEqualTo(certificates);
  }

  @Test
  void repeatWithOtherNamesIsDenied() throws Exception {
    AwsInstance instance = newInstance();
    SignRequestBuilder request = request(instance).sans(List.of("app.internal"));
    assertThat(client.post("/1.0/sign", request.body()).status()).isEqualTo(201);

    CaClient.Response other = client.post("/1.0/sign", request(instance).keys(request.keys())
        .sans(List.of("other.internal")).body());

    assertThat(other.status()).isEqualTo(403);
    assertThat(other.message()).contains("already enrolled");
  }

  @Test
  void repeatOfRevokedCertificateIsDenied() throws Exception {
    Map<String, Object> body = request(newInstance()).body();
    CaClient.Response first = client.post("/1.0/sign", body);
    String serial = parse(first.body().get("crt").asText()).getSerialNumber().toString(16);
    server.runtime().store().revoke(serial, 4, "superseded", "operator", Instant.now());

    CaClient.Response repeat = client.post("/1.0/sign", body);

    assertThat(repeat.status()).isEqualTo(403);
    assertThat(repeat.message()).contains("already enrolled");
  }

  @Test
  void otherInstanceCannotUseUpTokenId() throws Exception {
    AwsInstance victim = newInstance();
    // step's client derives its jti from the provisioner and the instance id, so any instance
    // of the account can compute the jti of another.
    String stepJti = Fingerprints.sha256Hex(("aws/" + PROVISIONER + "."
        + victim.instanceId()).getBytes(StandardCharsets.UTF_8));
    CaClient.Response other = client.post("/1.0/sign", request(newInstance()).jti(stepJti)
        .body());
    assertThat(other.status()).as(other.message()).isEqualTo(201);

    CaClient.Response response = client.post("/1.0/sign", request(victim).jti(stepJti)
        .body());

    assertThat(response.status()).as(response.message()).isEqualTo(201);
    assertThat(server.runtime().store().findRegistration(PROVISIONER, victim.instanceId()))
        .isPresent();
  }

  /**
   * Covers the test CA's names, localhost and 127.0.0.1, in several spellings. Clients trust
   * every certificate under the root, so an instance with one of them could pose as the CA.
   */
  @ParameterizedTest
  @ValueSource(strings = {"localhost", "LocalHost", "127.0.0.1", "0:0:0:0:0:ffff:7f00:1"})
  void caOwnNameIsDenied(String name) throws Exception {
    long certificates = server.runtime().store().countCertificates();

    CaClient.Response response = client.post("/1.0/sign", request(newInstance())
        .subject("app.internal").sans(List.of("app.internal", name)).body());

    assertThat(response.status()).as(response.message()).isEqualTo(403);
    assertThat(response.message()).contains("is a name of this CA");
    assertThat(server.runtime().store().countCertificates()).isEqualTo(certificates);
  }

  @Test
  void caOwnNameAsSubjectIsDenied() throws Exception {
    CaClient.Response response = client.post("/1.0/sign", request(newInstance())
        .subject("localhost").sans(List.of("localhost")).body());

    assertThat(response.status()).as(response.message()).isEqualTo(403);
    assertThat(response.message()).contains("localhost", "is a name of this CA");
  }

  @Test
  void forgedRequestDoesNotLockOutRealInstance() throws Exception {
    AwsInstance instance = newInstance();
    AwsTestSigner forger = AwsTestSigner.generate();
    Map<String, Object> forged = new SignRequestBuilder(forger, instance, caUrl, PROVISIONER)
        .body();

    assertThat(client.post("/1.0/sign", forged).status()).isEqualTo(401);
    assertThat(server.runtime().store().findRegistration(PROVISIONER, instance.instanceId()))
        .isEmpty();
    assertThat(client.post("/1.0/sign", request(instance).body()).status()).isEqualTo(201);
  }

  /** One row: a name, how the request is spoiled, the expected status, the audit reason. */
  Stream<Arguments> rejectedRequests() {
    Function<SignRequestBuilder, Object> body = SignRequestBuilder::body;
    return Stream.of(
        row("wrong account", 401, "accountId 111122223333 is not in the allowed accounts",
            i -> new SignRequestBuilder(signer, AwsInstance.random("111122223333",
                "us-east-1"), caUrl, PROVISIONER).body()),
        row("altered document", 401, "verify-aws",
            i -> request(i).alterDocument(d -> replace(d, i.instanceId(), "i-0000000000000000f"))
                .body()),
        row("signature of another document", 401, "verify-aws",
            i -> request(i).signatureOf(newInstance().document()).body()),
        row("unknown region", 401, "xx-nowhere-1",
            i -> request(new AwsInstance(ACCOUNT, "xx-nowhere-1", i.instanceId(), i.privateIp(),
                i.pendingTime(), i.instanceType(), i.imageId())).body()),
        row("expired token", 401, "expired",
            i -> request(i).expiry(Instant.now().minus(Duration.ofMinutes(10))).body()),
        row("token without exp", 401, "no exp", i -> request(i).withoutExpiry().body()),
        row("exp too far ahead", 401, "ahead",
            i -> request(i).expiry(Instant.now().plus(Duration.ofHours(1))).body()),
        row("wrong host in aud", 401, "aud",
            i -> request(i).audience("https://evil.example/1.0/sign#aws/" + PROVISIONER)
                .body()),
        row("wrong path in aud", 401, "aud",
            i -> request(i).audience(caUrl + "/1.0/renew#aws/" + PROVISIONER).body()),
        row("unknown provisioner in aud", 401, "does not exist",
            i -> request(i).audience(caUrl + "/1.0/sign#aws/nobody").body()),
        row("pkcs7 form not enabled", 401, "pkcs7",
            i -> request(i).form(AwsSignatureForm.PKCS7).body()),
        row("CN differs from subject", 403, "does not match the token subject",
            i -> request(i).csrSubject("other.internal").body()),
        row("CSR with bad signature", 400, "csr signature",
            i -> request(i).corruptCsrSignature().body()),
        row("CSR asking for CA:true", 403, "CA:true", i -> request(i).csrRequestsCa().body()),
        row("RSA key below 2048 bits", 403, "too small",
            i -> request(i).keySpec(new KeySpec("RSA", null, 1024)).body()),
        row("wildcard name", 403, "wildcard",
            i -> request(i).sans(List.of("*.internal")).body()),
        row("malformed JSON", 400, "not valid JSON", i -> "{\"csr\": "),
        row("missing ott", 400, "ott", i -> Map.of("csr", request(i).csr())),
        row("token is not a JWT", 400, "not a signed JWT",
            i -> Map.of("csr", request(i).csr(), "ott", "not-a-token")),
        row("claim of the wrong type", 400, "aud claim",
            i -> Map.of("csr", request(i).csr(), "ott", unsignedParts("{\"alg\":\"ES256\"}",
                "{\"aud\":12,\"sub\":\"app.internal\"}"))),
        row("oversized body", 400, "exceeds the limit",
            i -> Map.of("csr", request(i).csr(), "ott", "x".repeat(70_000))));
  }

  /** Returns a compact JWS of the header and payload given, with a signature of zeros. */
  static String unsignedParts(String header, String payload) {
    java.util.Base64.Encoder encoder = java.util.Base64.getUrlEncoder().withoutPadding();
    return encoder.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
        + encoder.encodeToString(payload.getBytes(StandardCharsets.UTF_8)) + "."
        + encoder.encodeToString(new byte[64]);
  }

  static Arguments row(String name, int status, String reason,
      Function<AwsInstance, Object> body) {
    return Arguments.of(name, status, reason, body);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rejectedRequests")
  void rejectedRequestRecordsNothing(String name, int status, String reason,
      Function<AwsInstance, Object> bodyFor) throws Exception {
    AwsInstance instance = newInstance();
    var store = server.runtime().store();
    long certificates = store.countCertificates();

    HttpResponse<String> response = postRaw(bodyFor.apply(instance));

    assertThat(response.statusCode()).isEqualTo(status);
    JsonNode json = new ObjectMapper().readTree(response.body());
    assertThat(json.get("status").asInt()).isEqualTo(status);
    assertThat(json.get("message").asText()).isNotBlank();
    if (status == 401) {
      assertThat(json.get("message").asText())
          .isEqualTo("The identity document or token was not accepted.");
    }
    assertThat(store.countCertificates()).isEqualTo(certificates);
    assertThat(store.findRegistration(PROVISIONER, instance.instanceId())).isEmpty();
    assertThat(lastAudit()).contains("outcome=rejected", "status=" + status, reason);
  }

  @Test
  void strictProvisionerIssuesOnlyVouchedNames() throws Exception {
    AwsInstance instance = newInstance();
    String dnsName = "ip-" + instance.privateIp().replace('.', '-') + ".ec2.internal";
    SignRequestBuilder custom = new SignRequestBuilder(signer, instance, caUrl, STRICT)
        .subject("app.internal");
    assertThat(client.post("/1.0/sign", custom.body()).status()).isEqualTo(403);
    assertThat(lastAudit()).contains("app.internal is not allowed");

    CaClient.Response vouched = client.post("/1.0/sign",
        new SignRequestBuilder(signer, instance, caUrl, STRICT).subject(dnsName).body());

    assertThat(vouched.status()).isEqualTo(201);
    assertThat(sans(parse(vouched.body().get("crt").asText())))
        .containsExactly(dnsName, instance.privateIp());
  }

  @Test
  void strictProvisionerAcceptsInstanceIdSubject() throws Exception {
    AwsInstance instance = newInstance();

    CaClient.Response response = client.post("/1.0/sign",
        new SignRequestBuilder(signer, instance, caUrl, STRICT)
            .subject(instance.instanceId()).sans(List.of(instance.instanceId())).body());

    assertThat(response.status()).isEqualTo(201);
    X509Certificate certificate = parse(response.body().get("crt").asText());
    assertThat(certificate.getSubjectX500Principal().getName())
        .isEqualTo("CN=" + instance.instanceId());
    assertThat(sans(certificate)).containsExactly(
        "ip-" + instance.privateIp().replace('.', '-') + ".ec2.internal", instance.privateIp());
  }

  @Test
  void strictProvisionerRejectsOldInstance() throws Exception {
    AwsInstance old = newInstance();
    AwsInstance started = new AwsInstance(ACCOUNT, "us-east-1", old.instanceId(),
        old.privateIp(), Instant.now().minus(Duration.ofHours(2)), old.instanceType(),
        old.imageId());
    String dnsName = "ip-" + started.privateIp().replace('.', '-') + ".ec2.internal";

    CaClient.Response response = client.post("/1.0/sign",
        new SignRequestBuilder(signer, started, caUrl, STRICT).subject(dnsName).body());

    assertThat(response.status()).isEqualTo(401);
    assertThat(lastAudit()).contains("exceeds the instance age limit 1h");
  }

  @Test
  void auditLineNeverHoldsSecrets() throws Exception {
    AwsInstance instance = newInstance();
    SignRequestBuilder request = request(instance);
    Map<String, Object> body = request.body();
    String ott = (String) body.get("ott");
    String csr = (String) body.get("csr");
    client.post("/1.0/sign", body);
    client.post("/1.0/sign", body);
    client.post("/1.0/sign", request(instance).alterDocument(d -> replace(d, "t3", "t4"))
        .body());

    assertThat(audit.list).hasSize(3);
    String documentBase64 = java.util.Base64.getEncoder().encodeToString(instance.document());
    for (ILoggingEvent event : audit.list) {
      String line = event.getFormattedMessage();
      assertThat(line).contains("request_id=");
      assertThat(line).doesNotContain(ott);
      assertThat(line).doesNotContain(ott.split("\\.")[1].substring(0, 40));
      assertThat(line).doesNotContain(ott.split("\\.")[2]);
      assertThat(line).doesNotContain(documentBase64.substring(0, 40));
      assertThat(line).doesNotContain("\"privateIp\"");
      assertThat(line).doesNotContain(csr.split("\n")[1]);
      assertThat(line).doesNotContain("BEGIN");
      assertThat(line).doesNotContain("PRIVATE KEY");
      assertThat(line).doesNotContain("\n");
    }
  }

  @Test
  void readEndpointsAnswerInStepShapes() throws Exception {
    assertThat(client.get("/health").body().get("status").asText()).isEqualTo("ok");
    assertThat(client.get("/1.0/health").status()).isEqualTo(200);
    assertThat(client.get("/roots").body().get("crts")).hasSize(1);
    String fingerprint = server.runtime().rootFingerprint();
    CaClient.Response root = client.get("/root/" + fingerprint);
    assertThat(root.status()).isEqualTo(200);
    assertThat(io.iidca.ca.pki.Fingerprints.of(parse(root.body().get("ca").asText())))
        .isEqualTo(fingerprint);
    assertThat(client.get("/root/" + "0".repeat(64)).status()).isEqualTo(404);
    JsonNode provisioners = client.get("/provisioners").body().get("provisioners");
    assertThat(provisioners).hasSize(3);
    assertThat(provisioners.get(1).get("disableCustomSANs").asBoolean()).isTrue();
    assertThat(provisioners.get(1).get("instanceAge").asText()).isEqualTo("1h");
    assertThat(client.get("/version").body().has("version")).isTrue();
  }

  @Test
  void formEncodedBodyIsRejectedByContentType() throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(caUrl + "/1.0/sign"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("csr=x&ott=y")));

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body()).contains("application/json");
  }

  HttpResponse<String> postRaw(Object body) throws Exception {
    String json = body instanceof String text ? text : new ObjectMapper()
        .writeValueAsString(body);
    return send(HttpRequest.newBuilder(URI.create(caUrl + "/1.0/sign"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    HttpClient http = HttpClient.newBuilder()
        .sslContext(CaClient.pinnedContext(parse(client.get("/roots").body().get("crts").get(0)
            .asText())))
        .build();
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  String lastAudit() {
    assertThat(audit.list).isNotEmpty();
    return audit.list.get(audit.list.size() - 1).getFormattedMessage();
  }

  static byte[] replace(byte[] document, String from, String to) {
    return new String(document, StandardCharsets.UTF_8).replace(from, to)
        .getBytes(StandardCharsets.UTF_8);
  }

  static X509Certificate parse(String pem) throws Exception {
    return Pem.parseCertificates(pem.getBytes(StandardCharsets.US_ASCII)).get(0);
  }

  static List<String> sans(X509Certificate certificate) throws Exception {
    return certificate.getSubjectAlternativeNames().stream()
        .map(entry -> String.valueOf(entry.get(1))).toList();
  }
}
