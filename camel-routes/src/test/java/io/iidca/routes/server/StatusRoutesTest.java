package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.error.UnavailableException;
import io.iidca.ca.pki.CrlSigner;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.store.Revocation;
import io.iidca.routes.client.CaClient;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsTestSigner;
import io.iidca.testkit.pki.TestCa;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CRL and the OCSP responder of a real CA over HTTPS, checked with the {@code openssl}
 * command-line tool: certificates come from the sign pipeline and are revoked in the store, as
 * an operator revokes them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StatusRoutesTest {

  static final String ACCOUNT = "123456789042";
  static final String PROVISIONER = "fleet";

  @TempDir
  static Path directory;

  AwsTestSigner signer;
  CaServer server;
  CaClient client;
  HttpClient http;
  String caUrl;
  Path files;
  X509Certificate validLeaf;
  X509Certificate revokedLeaf;

  @BeforeAll
  void startCa() throws Exception {
    signer = AwsTestSigner.generate();
    TestCa ca = TestCa.create(directory.resolve("ca"));
    ca.addProvisioner(new ProvisionerConfig(PROVISIONER, "AWS", Lifetime.DEFAULT, false, false,
        null, List.of(ACCOUNT), ProvisionerConfig.DEFAULT_AWS_FORMS,
        List.of(ca.writeCertificates("emulator", signer.certificates()))));
    CaRuntime runtime = CaRuntime.load(ca.files(), ca.config(), TestCa.PASSWORD,
        Clock.systemUTC());
    server = CaServer.start(runtime, ListenAddress.parse("127.0.0.1:0"));
    caUrl = "https://127.0.0.1:" + server.port();
    client = new CaClient(URI.create(caUrl), ca.root(), Duration.ofSeconds(5));
    http = HttpClient.newBuilder().sslContext(CaClient.pinnedContext(ca.root()))
        .proxy(HttpClient.Builder.NO_PROXY).build();

    validLeaf = issue();
    revokedLeaf = issue();
    revoke(revokedLeaf, 1);

    files = Files.createDirectories(directory.resolve("openssl"));
    X509Certificate intermediate = runtime.issuer().certificate();
    write("root.pem", Pem.encode(ca.root()));
    write("intermediate.pem", Pem.encode(intermediate));
    write("chain.pem", Pem.encode(intermediate, ca.root()));
    write("valid.pem", Pem.encode(validLeaf));
    write("revoked.pem", Pem.encode(revokedLeaf));
  }

  @AfterAll
  void stopCa() {
    server.close();
  }

  X509Certificate issue() throws Exception {
    CaClient.Response response = client.post("/1.0/sign", new SignRequestBuilder(signer,
        AwsInstance.random(ACCOUNT, "us-east-1"), caUrl, PROVISIONER).body());
    assertThat(response.status()).isEqualTo(201);
    return Pem.parseCertificates(response.body().get("crt").asText()
        .getBytes(StandardCharsets.US_ASCII)).get(0);
  }

  void revoke(X509Certificate leaf, int reasonCode) {
    server.runtime().store().revoke(leaf.getSerialNumber().toString(16), reasonCode,
        "test revocation", "operator", server.runtime().clock().instant());
  }

  void write(String name, String pem) throws IOException {
    Files.writeString(files.resolve(name), pem, StandardCharsets.US_ASCII);
  }

  HttpResponse<byte[]> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(caUrl + path)).GET().build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  HttpResponse<byte[]> post(String path, byte[] body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(caUrl + path))
        .header("Content-Type", "application/ocsp-request")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  /** The exit code and the merged stdout and stderr of one openssl run. */
  record Openssl(int exitCode, String output) {}

  Openssl openssl(String... arguments) throws Exception {
    List<String> command = new ArrayList<>();
    command.add("openssl");
    command.addAll(List.of(arguments));
    Process process;
    try {
      process = new ProcessBuilder(command).directory(files.toFile())
          .redirectErrorStream(true).start();
    } catch (IOException e) {
      assumeTrue(false, "the openssl command-line tool is not installed: " + e.getMessage());
      throw e;
    }
    process.getOutputStream().close();
    String output = new String(process.getInputStream().readAllBytes(),
        StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("openssl finished").isTrue();
    return new Openssl(process.exitValue(), output);
  }

  static String opensslSerial(X509Certificate certificate) {
    String hex = certificate.getSerialNumber().toString(16).toUpperCase(Locale.ROOT);
    return hex.length() % 2 == 0 ? hex : "0" + hex;
  }

  static BigInteger crlNumber(byte[] der) throws Exception {
    X509CRL crl = parseCrl(der);
    byte[] value = crl.getExtensionValue(Extension.cRLNumber.getId());
    return ASN1Integer.getInstance(ASN1Primitive.fromByteArray(
        ASN1OctetString.getInstance(value).getOctets())).getValue();
  }

  static X509CRL parseCrl(byte[] der) throws Exception {
    return (X509CRL) CertificateFactory.getInstance("X.509")
        .generateCRL(new ByteArrayInputStream(der));
  }

  @Test
  void crlVerifiesWithOpenssl() throws Exception {
    HttpResponse<byte[]> response = get("/1.0/crl");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/pkix-crl");
    Files.write(files.resolve("crl.der"), response.body());

    Openssl verify = openssl("crl", "-inform", "DER", "-in", "crl.der", "-CAfile",
        "chain.pem", "-noout");
    Openssl text = openssl("crl", "-inform", "DER", "-in", "crl.der", "-text", "-noout");

    assertThat(verify.exitCode()).as(verify.output()).isEqualTo(0);
    assertThat(verify.output()).contains("verify OK");
    assertThat(text.exitCode()).as(text.output()).isEqualTo(0);
    assertThat(text.output()).contains("Serial Number: " + opensslSerial(revokedLeaf));
    assertThat(text.output()).contains("Key Compromise");
    assertThat(text.output()).doesNotContain(opensslSerial(validLeaf));
    assertThat(text.output()).contains("X509v3 CRL Number", "X509v3 Authority Key Identifier");
    assertThat(text.output()).contains("Issuer: O = Test CA, CN = Test CA Intermediate CA");
  }

  @Test
  void crlPemVerifiesWithOpenssl() throws Exception {
    HttpResponse<byte[]> response = get("/crl?pem=true");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type").orElse(""))
        .startsWith("text/plain");
    String pem = new String(response.body(), StandardCharsets.US_ASCII);
    assertThat(pem).startsWith("-----BEGIN X509 CRL-----");
    assertThat(pem.strip()).endsWith("-----END X509 CRL-----");
    write("crl.pem", pem);

    Openssl verify = openssl("crl", "-in", "crl.pem", "-CAfile", "chain.pem", "-noout");

    assertThat(verify.exitCode()).as(verify.output()).isEqualTo(0);
    assertThat(verify.output()).contains("verify OK");
  }

  @Test
  void crlPathsServeSameCachedCrl() throws Exception {
    byte[] versioned = get("/1.0/crl").body();
    byte[] legacy = get("/crl").body();
    byte[] explicitDer = get("/crl?pem=false").body();

    assertThat(legacy).isEqualTo(versioned);
    assertThat(explicitDer).isEqualTo(versioned);
  }

  @Test
  void invalidPemParameterIsBadRequest() throws Exception {
    CaClient.Response response = client.get("/1.0/crl?pem=yes");

    assertThat(response.status()).isEqualTo(400);
    assertThat(response.body().get("message").asText()).isNotEmpty();
  }

  @Test
  void revocationProducesNewerCrl() throws Exception {
    byte[] before = get("/1.0/crl").body();
    X509Certificate leaf = issue();
    revoke(leaf, 4);

    byte[] after = get("/1.0/crl").body();

    X509CRL crl = parseCrl(after);
    assertThat(crl.getRevokedCertificate(leaf.getSerialNumber())).isNotNull();
    assertThat(crl.getRevokedCertificate(leaf.getSerialNumber()).getRevocationReason())
        .isEqualTo(java.security.cert.CRLReason.SUPERSEDED);
    assertThat(crl.getRevokedCertificate(revokedLeaf.getSerialNumber())).isNotNull();
    assertThat(parseCrl(before).getRevokedCertificate(leaf.getSerialNumber())).isNull();
    assertThat(crlNumber(after)).isGreaterThan(crlNumber(before));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({"valid.pem, good", "revoked.pem, revoked"})
  void ocspOverHttpsWithOpenssl(String leaf, String status) throws Exception {
    Openssl ocsp = openssl("ocsp", "-issuer", "intermediate.pem", "-cert", leaf,
        "-url", caUrl + "/ocsp", "-CAfile", "root.pem", "-VAfile", "intermediate.pem");

    assertThat(ocsp.exitCode()).as(ocsp.output()).isEqualTo(0);
    assertThat(ocsp.output()).contains("Response verify OK");
    assertThat(ocsp.output()).contains(leaf + ": " + status);
    // openssl sends a nonce by default and warns when the response lacks it.
    assertThat(ocsp.output()).doesNotContain("WARNING", "Nonce Verify error");
    assertThat(ocsp.output()).contains("This Update:", "Next Update:");
    if (status.equals("revoked")) {
      assertThat(ocsp.output()).contains("Reason: keyCompromise");
    }
  }

  @Test
  void ocspUnknownSerialWithOpenssl() throws Exception {
    Openssl ocsp = openssl("ocsp", "-issuer", "intermediate.pem", "-serial", "0x1234abcd",
        "-url", caUrl + "/ocsp", "-CAfile", "root.pem", "-VAfile", "intermediate.pem");

    assertThat(ocsp.exitCode()).as(ocsp.output()).isEqualTo(0);
    assertThat(ocsp.output()).contains("Response verify OK");
    assertThat(ocsp.output()).contains("0x1234abcd: unknown");
  }

  @ParameterizedTest(name = "{0}, {1}, {2}")
  @CsvSource({
      "valid.pem, sha1, percent-encoded, good",
      "revoked.pem, sha1, percent-encoded, revoked",
      "valid.pem, sha256, percent-encoded, good",
      "revoked.pem, sha256, as-is, revoked",
      "valid.pem, sha1, as-is, good"})
  void ocspGetFormWithOpenssl(String leaf, String digest, String encoding, String status)
      throws Exception {
    Openssl request = openssl("ocsp", "-issuer", "intermediate.pem", "-" + digest, "-cert",
        leaf, "-no_nonce", "-reqout", "request.der");
    assertThat(request.exitCode()).as(request.output()).isEqualTo(0);
    String base64 = Base64.getEncoder().encodeToString(
        Files.readAllBytes(files.resolve("request.der")));
    String path = encoding.equals("as-is") ? base64
        : URLEncoder.encode(base64, StandardCharsets.US_ASCII);

    HttpResponse<byte[]> response = get("/ocsp/" + path);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValue("application/ocsp-response");
    Files.write(files.resolve("response.der"), response.body());
    Openssl verify = openssl("ocsp", "-respin", "response.der", "-issuer", "intermediate.pem",
        "-" + digest, "-cert", leaf, "-no_nonce", "-CAfile", "root.pem", "-VAfile",
        "intermediate.pem");

    assertThat(verify.exitCode()).as(verify.output()).isEqualTo(0);
    assertThat(verify.output()).contains("Response verify OK");
    assertThat(verify.output()).contains(leaf + ": " + status);
  }

  @Test
  void ocspPostAndGetAnswerAlike() throws Exception {
    Openssl request = openssl("ocsp", "-issuer", "intermediate.pem", "-cert", "revoked.pem",
        "-no_nonce", "-reqout", "same.der");
    assertThat(request.exitCode()).as(request.output()).isEqualTo(0);
    byte[] der = Files.readAllBytes(files.resolve("same.der"));

    OCSPResp posted = new OCSPResp(post("/ocsp", der).body());
    OCSPResp fetched = new OCSPResp(get("/ocsp/" + URLEncoder.encode(
        Base64.getEncoder().encodeToString(der), StandardCharsets.US_ASCII)).body());

    assertThat(posted.getStatus()).isEqualTo(OCSPRespBuilder.SUCCESSFUL);
    assertThat(fetched.getStatus()).isEqualTo(OCSPRespBuilder.SUCCESSFUL);
  }

  @Test
  void malformedPostGetsMalformedRequestStatus() throws Exception {
    HttpResponse<byte[]> response = post("/ocsp", "not an OCSP request"
        .getBytes(StandardCharsets.US_ASCII));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValue("application/ocsp-response");
    assertThat(new OCSPResp(response.body()).getStatus())
        .isEqualTo(OCSPRespBuilder.MALFORMED_REQUEST);
  }

  @Test
  void oversizedPostGetsMalformedRequestStatus() throws Exception {
    HttpResponse<byte[]> response = post("/ocsp",
        new byte[StatusRoutes.MAX_OCSP_REQUEST_BYTES + 1]);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(new OCSPResp(response.body()).getStatus())
        .isEqualTo(OCSPRespBuilder.MALFORMED_REQUEST);
  }

  @ParameterizedTest(name = "GET /ocsp/{0}")
  @CsvSource({"not-base64!", "TUlJ", "%2B%2B%2B", "''"})
  void malformedGetGetsMalformedRequestStatus(String path) throws Exception {
    HttpResponse<byte[]> response = get("/ocsp/" + path);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValue("application/ocsp-response");
    assertThat(new OCSPResp(response.body()).getStatus())
        .isEqualTo(OCSPRespBuilder.MALFORMED_REQUEST);
  }

  @Test
  void otherOcspPathsAreNotFound() throws Exception {
    assertThat(get("/ocspx").statusCode()).isEqualTo(404);
    assertThat(get("/ocsp").statusCode()).isEqualTo(404);
    assertThat(post("/ocsp/extra", new byte[] {0x30, 0x00}).statusCode()).isEqualTo(404);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "percent-encoded, %2B%2F%2B%2F, fbffbf",
      "plus and slash as-is, +/+/, fbffbf",
      "URL-safe alphabet, -_-_, fbffbf",
      "padding percent-encoded, %2B%2F8%3D, fbff",
      "padding missing, +/8, fbff"})
  void urlRequestDecoding(String name, String encoded, String expectedHex) {
    assertThat(StatusRoutes.decodeUrlRequest(encoded))
        .isEqualTo(java.util.HexFormat.of().parseHex(expectedHex));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"%ZZ", "not+base64!", "é"})
  void urlRequestDecodingRejectsInvalidText(String encoded) {
    assertThatThrownBy(() -> StatusRoutes.decodeUrlRequest(encoded))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "/ocsp/abc, /ocsp/abc",
      "/ocsp/a//b?x=1, /ocsp/a//b",
      "https://ca.example:443/ocsp/abc, /ocsp/abc",
      "/ocsp/a%2Fb, /ocsp/a%2Fb"})
  void rawPathKeepsEncoding(String uri, String expected) {
    assertThat(StatusRoutes.rawPath(uri)).isEqualTo(expected);
  }

  @Test
  void crlCacheRenewsAtHalfValidity() throws Exception {
    StatusRoutes.CrlCache cache = new StatusRoutes.CrlCache(
        new CrlSigner(server.runtime().issuer(), Duration.ofHours(24)), List::of);
    Instant start = Instant.parse("2026-03-01T00:00:00Z");

    StatusRoutes.CrlCache.SignedCrl first = cache.current(start);
    StatusRoutes.CrlCache.SignedCrl beforeHalf = cache.current(start.plus(Duration.ofHours(12))
        .minusSeconds(1));
    StatusRoutes.CrlCache.SignedCrl atHalf = cache.current(start.plus(Duration.ofHours(12)));

    assertThat(beforeHalf).isSameAs(first);
    assertThat(atHalf).isNotSameAs(first);
    assertThat(crlNumber(atHalf.der())).isGreaterThan(crlNumber(first.der()));
    assertThat(atHalf.crl().getThisUpdate().toInstant())
        .isEqualTo(start.plus(Duration.ofHours(12)));
  }

  @Test
  void crlCacheRenewsAfterRevocation() throws Exception {
    List<Revocation> revocations = new ArrayList<>();
    StatusRoutes.CrlCache cache = new StatusRoutes.CrlCache(
        new CrlSigner(server.runtime().issuer()), () -> List.copyOf(revocations));
    Instant start = Instant.parse("2026-03-01T00:00:00Z");

    StatusRoutes.CrlCache.SignedCrl first = cache.current(start);
    StatusRoutes.CrlCache.SignedCrl unchanged = cache.current(start.plusSeconds(60));
    revocations.add(new Revocation("4a3f", start.plusSeconds(90), 1, "test", "operator"));
    StatusRoutes.CrlCache.SignedCrl afterRevocation = cache.current(start.plusSeconds(120));

    assertThat(unchanged).isSameAs(first);
    assertThat(first.crl().getRevokedCertificates()).isNull();
    assertThat(afterRevocation).isNotSameAs(first);
    assertThat(afterRevocation.crl().getRevokedCertificate(new BigInteger("4a3f", 16)))
        .isNotNull();
    assertThat(crlNumber(afterRevocation.der())).isGreaterThan(crlNumber(first.der()));
  }

  @Test
  void crlCacheDetectsBackdatedRevocation() {
    Instant start = Instant.parse("2026-03-01T00:00:00Z");
    List<Revocation> revocations = new ArrayList<>(List.of(
        new Revocation("10", start, 1, "test", "operator")));
    StatusRoutes.CrlCache cache = new StatusRoutes.CrlCache(
        new CrlSigner(server.runtime().issuer()), () -> List.copyOf(revocations));

    StatusRoutes.CrlCache.SignedCrl first = cache.current(start);
    revocations.add(new Revocation("11", start.minus(Duration.ofDays(1)), 1, "test",
        "operator"));
    StatusRoutes.CrlCache.SignedCrl second = cache.current(start.plusSeconds(1));

    assertThat(second).isNotSameAs(first);
    assertThat(second.crl().getRevokedCertificates()).hasSize(2);
  }

  @Test
  void crlCacheServesCachedCrlDuringOutage() {
    boolean[] storeDown = {false};
    StatusRoutes.CrlCache cache = new StatusRoutes.CrlCache(
        new CrlSigner(server.runtime().issuer(), Duration.ofHours(24)), () -> {
          if (storeDown[0]) {
            throw new UnavailableException("store", "connection refused");
          }
          return List.of();
        });
    Instant start = Instant.parse("2026-03-01T00:00:00Z");

    StatusRoutes.CrlCache.SignedCrl cached = cache.current(start);
    storeDown[0] = true;

    assertThat(cache.current(start.plus(Duration.ofHours(23)))).isSameAs(cached);
    assertThatThrownBy(() -> cache.current(start.plus(Duration.ofHours(24))))
        .isInstanceOf(UnavailableException.class)
        .hasMessage("store: connection refused");
  }

  @Test
  void crlOutageWithoutCachedCrlFails() {
    StatusRoutes.CrlCache cache = new StatusRoutes.CrlCache(
        new CrlSigner(server.runtime().issuer()), () -> {
          throw new UnavailableException("store", "connection refused");
        });

    assertThatThrownBy(() -> cache.current(Instant.parse("2026-03-01T00:00:00Z")))
        .isInstanceOf(UnavailableException.class);
  }
}
