package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.CaCertificates;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Pem;
import io.iidca.routes.client.CaClient;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsTestSigner;
import io.iidca.testkit.pki.TestCa;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.interfaces.RSAPublicKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.CertificationRequest;
import org.bouncycastle.asn1.pkcs.CertificationRequestInfo;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.DigestInfo;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The HTTPS API under hostile input, against a real CA on 127.0.0.1: wrong methods, header and
 * path tricks, bodies at the size limits, parallel requests, and inputs that reach unusual code
 * paths. Every response must have the right status, never a 500 for bad input, and an error
 * body that contains no Java class name or stack trace.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiAttackTest {

  static final String ACCOUNT = "123456789042";
  static final String PROVISIONER = "AWS IID Provisioner";
  static final String NO_TOFU = "no-tofu";
  static final String FIXED_401 = "The identity document or token was not accepted.";
  /** Java exception names, stack frames and package names that must not reach a client. */
  static final String LEAK = "(?s).*([A-Z][A-Za-z]*(Exception|Error)\\b|\\tat |\\bjava\\.|"
      + "\\borg\\.|\\bio\\.iidca|\\bcom\\.).*";
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  static Path directory;

  AwsTestSigner signer;
  CaServer server;
  X509Certificate root;
  String caUrl;
  HttpClient http;

  @BeforeAll
  void startCa() throws Exception {
    signer = AwsTestSigner.generate();
    TestCa ca = TestCa.create(directory);
    root = ca.root();
    String emulator = ca.writeCertificates("emulator", signer.certificates());
    ca.addProvisioner(new ProvisionerConfig(PROVISIONER, "AWS", Lifetime.DEFAULT, false, false,
        null, List.of(ACCOUNT), ProvisionerConfig.DEFAULT_AWS_FORMS, List.of(emulator)));
    ca.addProvisioner(new ProvisionerConfig(NO_TOFU, "AWS", Lifetime.DEFAULT, false, true,
        null, List.of(ACCOUNT), ProvisionerConfig.DEFAULT_AWS_FORMS, List.of(emulator)));
    CaRuntime runtime = CaRuntime.load(ca.files(), ca.config(), TestCa.PASSWORD,
        Clock.systemUTC());
    server = CaServer.start(runtime, ListenAddress.parse("127.0.0.1:0"));
    caUrl = "https://127.0.0.1:" + server.port();
    http = HttpClient.newBuilder().sslContext(CaClient.pinnedContext(root))
        .version(HttpClient.Version.HTTP_1_1).build();
  }

  @AfterAll
  void stopCa() {
    server.close();
  }

  SignRequestBuilder request(AwsInstance instance) {
    return new SignRequestBuilder(signer, instance, caUrl, PROVISIONER);
  }

  static AwsInstance newInstance() {
    return AwsInstance.random(ACCOUNT, "us-east-1");
  }

  // ---- methods and paths ----

  static Stream<Arguments> wrongMethods() {
    return Stream.of(
        Arguments.of("GET", "/1.0/sign"),
        Arguments.of("GET", "/sign"),
        Arguments.of("PUT", "/1.0/sign"),
        Arguments.of("DELETE", "/1.0/sign"),
        Arguments.of("PATCH", "/sign"),
        Arguments.of("POST", "/health"),
        Arguments.of("POST", "/1.0/health"),
        Arguments.of("POST", "/roots"),
        Arguments.of("DELETE", "/provisioners"),
        Arguments.of("PUT", "/version"),
        Arguments.of("POST", "/root/" + "0".repeat(64)));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("wrongMethods")
  void wrongMethodGets405(String method, String path) throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(caUrl + path))
        .method(method, HttpRequest.BodyPublishers.ofString("{}")));

    assertThat(response.statusCode()).isEqualTo(405);
    assertThat(response.body()).doesNotMatch(LEAK);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("unknownPaths")
  void unknownPathGets404(String path) throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(caUrl + path)));

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.body()).doesNotMatch(LEAK);
  }

  static Stream<String> unknownPaths() {
    return Stream.of("/", "/nope", "/2.0/sign", "/1.0/", "/1.0/unknown", "/root/", "/roots/x");
  }

  /** Paths sent as raw bytes, so that no client normalizes them first. */
  static Stream<String> traversals() {
    return Stream.of(
        "/root/..%2F..%2F..%2Fetc%2Fpasswd",
        "/root/../../../etc/passwd",
        "/root/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/root/..;/..;/etc/passwd",
        "/root/" + "0".repeat(64) + "%00",
        "/root/" + "0".repeat(64) + "/..%2F..%2Fconfig%2Fca.yaml",
        "/1.0/root/%252e%252e%252fsecrets");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("traversals")
  void pathTraversalGets404(String path) throws Exception {
    RawResponse response = raw("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Connection: close\r\n\r\n");

    assertThat(response.status()).isEqualTo(404);
    assertThat(response.body()).doesNotContain("root:x:", "BEGIN", "dnsNames");
    assertThat(response.body()).doesNotMatch(LEAK);
  }

  @Test
  void rootFingerprintWithColonsAndCaseIsFound() throws Exception {
    String typed = server.runtime().rootFingerprint().toUpperCase()
        .replaceAll("(..)(?!$)", "$1:");

    RawResponse response = raw("GET /1.0/root/" + typed + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Connection: close\r\n\r\n");

    assertThat(response.status()).isEqualTo(200);
    assertThat(response.body()).contains("BEGIN CERTIFICATE");
  }

  // ---- headers ----

  @Test
  void bareCarriageReturnInHeaderIsNotReflected() throws Exception {
    String body = "{\"csr\":\"x\",\"ott\":\"y\"}";

    RawResponse response = raw("POST /1.0/sign HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Content-Type: text/plain\rX-Injected: yes\r\n"
        + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body);

    assertThat(response.status()).isEqualTo(400);
    assertThat(response.headers()).doesNotContainKey("x-injected");
    assertThat(response.body()).doesNotContain("\r", "\n");
  }

  @Test
  void encodedLineBreakInPathIsNotReflected() throws Exception {
    RawResponse response = raw("GET /root/%0D%0AX-Injected:%20yes HTTP/1.1\r\n"
        + "Host: 127.0.0.1\r\nConnection: close\r\n\r\n");

    assertThat(response.status()).isEqualTo(404);
    assertThat(response.headers()).doesNotContainKey("x-injected");
    assertThat(response.body()).doesNotContain("\r", "\n", "\\r", "\\n");
  }

  @Test
  void requestIdComesFromServerNotClient() throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(caUrl + "/1.0/sign"))
        .header("Content-Type", "application/json")
        .header("X-Request-Id", "attacker-chosen")
        .POST(HttpRequest.BodyPublishers.ofString("{}")));

    assertThat(response.statusCode()).isEqualTo(400);
    String requestId = response.headers().firstValue("X-Request-Id").orElseThrow();
    assertThat(requestId).isNotEqualTo("attacker-chosen");
    assertThat(UUID.fromString(requestId).toString()).isEqualTo(requestId);
    assertThat(JSON.readTree(response.body()).get("requestId").asText()).isEqualTo(requestId);
  }

  // ---- body size ----

  @Test
  void bodyOfExactlyLimitIsSigned() throws Exception {
    String json = padded(request(newInstance()).body(), Decoder.MAX_BODY_BYTES);

    HttpResponse<String> response = postJson(json);

    assertThat(json.getBytes(StandardCharsets.UTF_8)).hasSize(65_536);
    assertThat(response.statusCode()).isEqualTo(201);
  }

  @Test
  void bodyOneByteOverLimitIsRejected() throws Exception {
    long before = server.runtime().store().countCertificates();
    String json = padded(request(newInstance()).body(), Decoder.MAX_BODY_BYTES + 1);

    HttpResponse<String> response = postJson(json);

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(response.body()).get("message").asText())
        .isEqualTo("request body of 65537 bytes exceeds the limit of 65536 bytes");
    assertThat(server.runtime().store().countCertificates()).isEqualTo(before);
  }

  @Test
  void bodyOverServerLimitGets413() throws Exception {
    String json = padded(request(newInstance()).body(), 1024 * 1024 + 1);

    HttpResponse<String> response = postJson(json);

    assertThat(response.statusCode()).isEqualTo(413);
    assertThat(response.body()).doesNotMatch(LEAK);
  }

  @Test
  void bodyOverServerLimitGetsJsonError() throws Exception {
    String json = padded(request(newInstance()).body(), 1024 * 1024 + 1);

    HttpResponse<String> response = postJson(json);

    assertJsonError(response, 413, "request body exceeds 1048576 bytes");
  }

  @Test
  void unknownPathGetsJsonError() throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(caUrl + "/nowhere"))
        .GET());

    assertJsonError(response, 404, "not found: the CA has no endpoint at this path; check the"
        + " URL");
  }

  @Test
  void wrongMethodGetsJsonError() throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(caUrl + "/health"))
        .DELETE());

    assertJsonError(response, 405, "method DELETE is not allowed on this endpoint");
  }

  /** Checks the status and Content-Type, then the body as {@link #assertErrorBody} does. */
  void assertJsonError(HttpResponse<String> response, int status, String message)
      throws Exception {
    assertThat(response.statusCode()).isEqualTo(status);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(assertErrorBody(response).get("message").asText()).isEqualTo(message);
  }

  @Test
  void chunkedBodyOverServerLimitGets413() throws Exception {
    byte[] json = padded(request(newInstance()).body(), 2 * 1024 * 1024)
        .getBytes(StandardCharsets.UTF_8);

    HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(caUrl + "/1.0/sign"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(json))));

    assertThat(response.statusCode()).isEqualTo(413);
  }

  // ---- concurrency ----

  /**
   * Fifty requests at once: 20 valid, 5 pairs for one instance each (one 201 and one 403 per
   * pair), 5 forged (401), 5 with the wrong account (401), 5 whose CN differs from the subject
   * (403) and 5 malformed (400). The store must hold exactly one certificate per 201.
   */
  @Test
  void parallelMixedRequestsGetTheirOwnStatus() throws Exception {
    List<Object> bodies = new ArrayList<>();
    List<Set<Integer>> expected = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      bodies.add(request(newInstance()).body());
      expected.add(Set.of(201));
    }
    List<AwsInstance> paired = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      AwsInstance instance = newInstance();
      paired.add(instance);
      bodies.add(request(instance).body());
      bodies.add(request(instance).body());
      expected.add(Set.of(201, 403));
      expected.add(Set.of(201, 403));
    }
    AwsTestSigner forger = AwsTestSigner.generate();
    for (int i = 0; i < 5; i++) {
      bodies.add(new SignRequestBuilder(forger, newInstance(), caUrl, PROVISIONER).body());
      expected.add(Set.of(401));
      bodies.add(request(AwsInstance.random("111122223333", "us-east-1")).body());
      expected.add(Set.of(401));
      bodies.add(request(newInstance()).csrSubject("other.internal").body());
      expected.add(Set.of(403));
      bodies.add("{\"csr\": ");
      expected.add(Set.of(400));
    }
    long before = server.runtime().store().countCertificates();

    List<HttpResponse<String>> responses = postAllAtOnce(bodies);

    int created = 0;
    for (int i = 0; i < responses.size(); i++) {
      HttpResponse<String> response = responses.get(i);
      assertThat(expected.get(i)).as("request " + i + ": " + response.body())
          .contains(response.statusCode());
      if (response.statusCode() == 201) {
        created++;
      } else {
        assertThat(response.body()).doesNotMatch(LEAK);
      }
    }
    for (int pair = 0; pair < 5; pair++) {
      int first = responses.get(20 + 2 * pair).statusCode();
      int second = responses.get(21 + 2 * pair).statusCode();
      assertThat(new TreeSet<>(List.of(first, second))).as("pair " + pair)
          .containsExactly(201, 403);
      assertThat(server.runtime().store().certificatesOf(PROVISIONER,
          paired.get(pair).instanceId())).hasSize(1);
    }
    assertThat(created).isEqualTo(25);
    assertThat(server.runtime().store().countCertificates() - before).isEqualTo(created);
  }

  List<HttpResponse<String>> postAllAtOnce(List<Object> bodies) throws Exception {
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(bodies.size());
    try {
      List<Future<HttpResponse<String>>> futures = new ArrayList<>();
      for (Object body : bodies) {
        String json = body instanceof String text ? text : JSON.writeValueAsString(body);
        Callable<HttpResponse<String>> task = () -> {
          start.await();
          return postJson(json);
        };
        futures.add(pool.submit(task));
      }
      start.countDown();
      List<HttpResponse<String>> responses = new ArrayList<>();
      for (Future<HttpResponse<String>> future : futures) {
        responses.add(future.get());
      }
      return responses;
    } finally {
      pool.shutdownNow();
    }
  }

  // ---- inputs that reach unusual code paths ----

  /** Returns rows of the case, the body for a fresh instance, and the statuses it may get. */
  Stream<Arguments> hostileBodies() throws Exception {
    return Stream.of(
        hostile("CSR signed with an RSA algorithm over an EC key", Set.of(400),
            i -> withCsr(request(i), relabeledCsr())),
        hostile("CSR whose CN is an INTEGER", Set.of(400),
            i -> withCsr(request(i), csr(new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.CN, new ASN1Integer(7)).build(), null))),
        hostile("CSR for an RSA key with public exponent 1", Set.of(403),
            i -> withCsr(request(i), exponentOneCsr())),
        hostile("CSR whose SAN extension is not GeneralNames", Set.of(400),
            i -> withCsr(request(i), csr(cn("app.internal"), new ASN1Integer(1)))),
        hostile("notAfter beyond the Duration range", Set.of(400),
            i -> with(request(i).body(), "notAfter", "106751991167301d")),
        hostile("notAfter beyond the Instant range", Set.of(400),
            i -> with(request(i).body(), "notAfter", "99999999999999h")),
        hostile("notAfter far beyond the Instant range as RFC 3339", Set.of(400, 403),
            i -> with(request(i).body(), "notAfter", "+999999999-12-31T23:59:59Z")),
        hostile("audience with a stray percent", Set.of(401),
            i -> request(i).audience(caUrl + "/1.0/sign#aws/%zz").body()),
        hostile("jti of 300 characters", Set.of(401),
            i -> request(i).jti("j".repeat(300)).body()),
        hostile("subject of 1100 characters with an at sign", Set.of(400, 403),
            i -> withSubject(request(i), "x".repeat(1100) + "@example.com")),
        hostile("valid DNS subject of 100 characters", Set.of(403),
            i -> withSubject(request(i), "a".repeat(63) + "." + "b".repeat(27) + ".internal")),
        hostile("token with alg none", Set.of(401), i -> {
          String ott = request(i).token();
          return with(request(i).body(), "ott", Base64.getUrlEncoder().withoutPadding()
              .encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8)) + "."
              + ott.split("\\.")[1] + ".");
        }),
        hostile("deeply nested JSON", Set.of(400), i -> "[".repeat(30_000)),
        hostile("JSON null", Set.of(400), i -> "null"),
        hostile("csr is a number", Set.of(400), i -> with(request(i).body(), "csr", 5)),
        hostile("notBefore is an object", Set.of(400),
            i -> with(request(i).body(), "notBefore", Map.of("a", 1))),
        hostile("ott of 60000 characters", Set.of(400),
            i -> with(request(i).body(), "ott", "e".repeat(60_000))),
        hostile("notAfter equal to the minimum lifetime, as a duration", Set.of(201),
            i -> with(request(i).body(), "notAfter", "5m")));
  }

  static Arguments hostile(String name, Set<Integer> statuses,
      ThrowingFunction<AwsInstance, Object> body) {
    return Arguments.of(name, statuses, body);
  }

  /** A body factory that may throw while it builds keys or signatures. */
  interface ThrowingFunction<T, R> {
    R apply(T value) throws Exception;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostileBodies")
  void hostileInputGetsCleanStatus(String name, Set<Integer> statuses,
      ThrowingFunction<AwsInstance, Object> bodyFor) throws Exception {
    Object body = bodyFor.apply(newInstance());
    String json = body instanceof String text ? text : JSON.writeValueAsString(body);

    HttpResponse<String> response = postJson(json);

    assertThat(statuses).as(name + " got " + response.statusCode() + ": " + response.body())
        .contains(response.statusCode());
    if (response.statusCode() != 201) {
      assertErrorBody(response);
    }
  }

  /** RFC 5280 ub-common-name: a subject that cannot be a common name is denied by policy. */
  @Test
  void longSubjectDeniedNamingLimit() throws Exception {
    String subject = "a".repeat(56) + ".internal";

    HttpResponse<String> response = postJson(JSON.writeValueAsString(
        withSubject(request(newInstance()), subject)));

    assertThat(response.statusCode()).isEqualTo(403);
    assertThat(assertErrorBody(response).get("message").asText()).isEqualTo("subject of 65"
        + " characters exceeds the limit of 64 for a common name (RFC 5280 ub-common-name):"
        + " use a shorter subject, and request longer names as sans");
  }

  /**
   * Covers subjects that Bouncy Castle's name builder does not take verbatim from a string: it
   * reads a value that starts with # as hex DER, and drops the backslash of a leading \#.
   */
  @ParameterizedTest
  @ValueSource(strings = {"#41@example.com", "#0c03616263@example.com", "\\#x@example.com"})
  void subjectBecomesCommonNameVerbatim(String subject) throws Exception {
    HttpResponse<String> response = postJson(JSON.writeValueAsString(
        withSubject(request(newInstance()), subject)));

    assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
    X509Certificate certificate = Pem.parseCertificates(JSON.readTree(response.body())
        .get("crt").asText().getBytes(StandardCharsets.US_ASCII)).get(0);
    RDN[] commonNames = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded())
        .getRDNs(BCStyle.CN);
    assertThat(commonNames).hasSize(1);
    assertThat(commonNames[0].getFirst().getValue()).isEqualTo(new DERUTF8String(subject));
  }

  @Test
  void hugeNotAfterNamesField() throws Exception {
    HttpResponse<String> response = postJson(JSON.writeValueAsString(
        with(request(newInstance()).body(), "notAfter", "99999999999999h")));

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(assertErrorBody(response).get("message").asText()).isEqualTo("field notAfter"
        + " value '99999999999999h' is a duration too long to add to the request time: request"
        + " a lifetime within the provisioner's limits");
  }

  /** Returns rows of a Content-Type and whether the sign request is accepted. */
  static Stream<Arguments> contentTypes() {
    return Stream.of(
        Arguments.of("application/json", true),
        Arguments.of("application/json; charset=utf-8", true),
        Arguments.of("Application/JSON;charset=UTF-8", true),
        Arguments.of("application/jsonp", false),
        Arguments.of("application/json-patch+json", false),
        Arguments.of("application/jsonx; charset=utf-8", false),
        Arguments.of("text/plain", false));
  }

  /**
   * A body without Content-Type is read as JSON, as docs/protocol.md states, and must still
   * parse as a sign request.
   */
  @Test
  void missingContentTypeIsReadAsJson() throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(caUrl + "/1.0/sign"))
        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(
            request(newInstance()).body()))));

    assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("contentTypes")
  void contentTypeMustBeExactlyJson(String contentType, boolean accepted) throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(caUrl + "/1.0/sign"))
        .header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(
            request(newInstance()).body()))));

    if (accepted) {
      assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
    } else {
      assertThat(response.statusCode()).isEqualTo(400);
      assertThat(assertErrorBody(response).get("message").asText()).isEqualTo("Content-Type "
          + contentType + " is not supported: send application/json");
    }
  }

  // ---- 401 bodies ----

  Stream<Arguments> identityFailures() {
    // The same token with a CSR of another key: the same request again would get the same
    // certificate, as a client that lost the response needs.
    Function<AwsInstance, Object> replayed = instance -> {
      try {
        Map<String, Object> first = new SignRequestBuilder(signer, instance, caUrl, NO_TOFU)
            .body();
        postJson(JSON.writeValueAsString(first));
        return Map.of("csr", new SignRequestBuilder(signer, instance, caUrl, NO_TOFU).csr(),
            "ott", first.get("ott"));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
    return Stream.of(
        Arguments.of("wrong account", (Function<AwsInstance, Object>) i ->
            request(AwsInstance.random("111122223333", "us-east-1")).body()),
        Arguments.of("forged signature", (Function<AwsInstance, Object>) i ->
            new SignRequestBuilder(AwsTestSigner.generate(), i, caUrl, PROVISIONER).body()),
        Arguments.of("unknown provisioner", (Function<AwsInstance, Object>) i ->
            request(i).audience(caUrl + "/1.0/sign#aws/nobody").body()),
        Arguments.of("expired token", (Function<AwsInstance, Object>) i ->
            request(i).expiry(Instant.now().minus(Duration.ofMinutes(10))).body()),
        Arguments.of("replayed token, trust on first use off", replayed));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("identityFailures")
  void identityFailureGetsFixedBody(String name, Function<AwsInstance, Object> bodyFor)
      throws Exception {
    HttpResponse<String> response = postJson(JSON.writeValueAsString(
        bodyFor.apply(newInstance())));

    assertThat(response.statusCode()).isEqualTo(401);
    JsonNode json = assertErrorBody(response);
    assertThat(json.get("message").asText()).isEqualTo(FIXED_401);
  }

  /** Checks the step-ca error shape and that nothing internal leaks, and returns the JSON. */
  JsonNode assertErrorBody(HttpResponse<String> response) throws Exception {
    assertThat(response.body()).doesNotMatch(LEAK);
    JsonNode json = JSON.readTree(response.body());
    List<String> fields = new ArrayList<>();
    json.fieldNames().forEachRemaining(fields::add);
    assertThat(fields).containsExactly("status", "message", "requestId");
    assertThat(json.get("status").asInt()).isEqualTo(response.statusCode());
    assertThat(response.headers().firstValue("X-Request-Id"))
        .contains(json.get("requestId").asText());
    if (response.statusCode() == 500) {
      assertThat(json.get("message").asText()).isEqualTo("Internal error.");
    }
    return json;
  }

  // ---- helpers ----

  static Map<String, Object> with(Map<String, Object> body, String field, Object value) {
    Map<String, Object> copy = new LinkedHashMap<>(body);
    copy.put(field, value);
    return copy;
  }

  static Map<String, Object> withCsr(SignRequestBuilder request, String csr) {
    return with(request.body(), "csr", csr);
  }

  /**
   * Sets the token subject and a CSR whose CN is that subject as a UTF8String, which Bouncy
   * Castle's string builder refuses beyond 64 characters but other clients send.
   */
  static Map<String, Object> withSubject(SignRequestBuilder request, String subject)
      throws Exception {
    String token = request.subject(subject).token();
    X500Name name = new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.CN, new DERUTF8String(subject)).build();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("csr", csr(name, null));
    body.put("ott", token);
    return body;
  }

  static X500Name cn(String commonName) {
    return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
  }

  /** Builds a CSR for {@code subject}, optionally with a raw SAN extension value. */
  static String csr(X500Name subject, ASN1Integer rawSan) throws Exception {
    KeyPair keys = KeySpec.EC_P256.generate();
    var builder = new JcaPKCS10CertificationRequestBuilder(subject, keys.getPublic());
    if (rawSan != null) {
      ExtensionsGenerator extensions = new ExtensionsGenerator();
      extensions.addExtension(Extension.subjectAlternativeName, false, rawSan.getEncoded());
      builder.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest,
          extensions.generate());
    }
    return Pem.encode(builder.build(CaCertificates.signer(keys.getPrivate())));
  }

  /** Builds a valid EC CSR for app.internal whose algorithm identifier names SHA-256 with RSA. */
  static String relabeledCsr() throws Exception {
    String pem = csr(cn("app.internal"), null);
    CertificationRequest request = Pem.parseCsr(pem).toASN1Structure();
    CertificationRequest relabeled = new CertificationRequest(
        request.getCertificationRequestInfo(),
        new AlgorithmIdentifier(PKCSObjectIdentifiers.sha256WithRSAEncryption, DERNull.INSTANCE),
        request.getSignature());
    return Pem.encode(new PKCS10CertificationRequest(relabeled));
  }

  /**
   * Builds a CSR for app.internal whose RSA key has the public exponent 1, which anyone can
   * sign for: the signature is the PKCS#1 v1.5 padded digest itself, and the self-signature
   * check passes.
   */
  static String exponentOneCsr() throws Exception {
    BigInteger modulus = ((RSAPublicKey) KeySpec.of("RSA", null, 2048).generate().getPublic())
        .getModulus();
    SubjectPublicKeyInfo key = new SubjectPublicKeyInfo(
        new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE),
        new org.bouncycastle.asn1.pkcs.RSAPublicKey(modulus, BigInteger.ONE));
    CertificationRequestInfo info = new CertificationRequestInfo(cn("app.internal"), key,
        new DERSet());
    byte[] digest = MessageDigest.getInstance("SHA-256")
        .digest(info.getEncoded(ASN1Encoding.DER));
    byte[] digestInfo = new DigestInfo(new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256,
        DERNull.INSTANCE), digest).getEncoded(ASN1Encoding.DER);
    byte[] encoded = new byte[modulus.bitLength() / 8];
    encoded[1] = 1;
    Arrays.fill(encoded, 2, encoded.length - digestInfo.length - 1, (byte) 0xff);
    System.arraycopy(digestInfo, 0, encoded, encoded.length - digestInfo.length,
        digestInfo.length);
    return Pem.encode(new PKCS10CertificationRequest(new CertificationRequest(info,
        new AlgorithmIdentifier(PKCSObjectIdentifiers.sha256WithRSAEncryption, DERNull.INSTANCE),
        new DERBitString(encoded))));
  }

  /** Serializes the body and pads it with spaces before the closing brace to exactly n bytes. */
  static String padded(Map<String, Object> body, int bytes) throws Exception {
    String json = JSON.writeValueAsString(body);
    return json.substring(0, json.length() - 1) + " ".repeat(bytes - json.length()) + "}";
  }

  HttpResponse<String> postJson(String json) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(caUrl + "/1.0/sign"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(request.timeout(Duration.ofSeconds(60)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A response read from a raw socket: status, lower-case header names, body. */
  record RawResponse(int status, Map<String, String> headers, String body) {}

  /** Decodes an HTTP/1.1 chunked body (RFC 9112, section 7.1) without chunk extensions. */
  static String dechunk(String chunked) {
    StringBuilder body = new StringBuilder();
    int position = 0;
    while (true) {
      int lineEnd = chunked.indexOf("\r\n", position);
      int size = Integer.parseInt(chunked.substring(position, lineEnd).trim(), 16);
      if (size == 0) {
        return body.toString();
      }
      body.append(chunked, lineEnd + 2, lineEnd + 2 + size);
      position = lineEnd + 2 + size + 2;
    }
  }

  /** Sends bytes exactly as given over TLS, pinned to the test root. */
  RawResponse raw(String request) throws Exception {
    SSLContext context = CaClient.pinnedContext(root);
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1",
        server.port())) {
      socket.setSoTimeout(30_000);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();
      String text = new String(socket.getInputStream().readAllBytes(),
          StandardCharsets.ISO_8859_1);
      int end = text.indexOf("\r\n\r\n");
      String[] lines = text.substring(0, end).split("\r\n");
      Map<String, String> headers = new LinkedHashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        headers.put(lines[i].substring(0, colon).trim().toLowerCase(),
            lines[i].substring(colon + 1).trim());
      }
      String body = text.substring(end + 4);
      if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
        body = dechunk(body);
      }
      return new RawResponse(Integer.parseInt(lines[0].split(" ")[1]), headers, body);
    }
  }
}
