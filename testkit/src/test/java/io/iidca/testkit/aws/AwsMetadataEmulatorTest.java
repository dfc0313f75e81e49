package io.iidca.testkit.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.ca.pki.Providers;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.stream.Stream;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Runs real emulators on 127.0.0.1 and talks to them with the JDK's HTTP client. */
class AwsMetadataEmulatorTest {

  private static final String TOKEN_HEADER = "X-aws-ec2-metadata-token";
  private static final String TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds";
  private static final String DOCUMENT = "/latest/dynamic/instance-identity/document";
  private static final AwsInstance INSTANCE = new AwsInstance("111122223333", "us-west-2",
      "i-0123456789abcdef0", "10.1.2.3", Instant.parse("2024-05-06T07:08:09Z"), "t3.micro",
      "ami-0fedcba9876543210");
  // A safety net against a hung test, not a measured bound.
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

  private static AwsTestSigner signer;
  private final HttpClient client = HttpClient.newBuilder()
      .connectTimeout(REQUEST_TIMEOUT)
      .version(HttpClient.Version.HTTP_1_1)
      .build();
  private AwsMetadataEmulator emulator;

  @BeforeAll
  static void generateSigner() {
    signer = AwsTestSigner.generate();
  }

  @AfterEach
  void closeEmulator() {
    if (emulator != null) {
      emulator.close();
    }
  }

  @Test
  void defaultEndpointIsLoopbackWithFreePort() {
    start(AwsMetadataEmulator.builder());

    assertThat(emulator.endpoint().getScheme()).isEqualTo("http");
    assertThat(emulator.endpoint().getHost()).isEqualTo("127.0.0.1");
    assertThat(emulator.endpoint().getPort()).isPositive();
    assertThat(emulator.endpoint().getPath()).isEmpty();
  }

  @Test
  void imdsV2FlowReturnsExactDocument() throws Exception {
    start(builder());

    HttpResponse<String> token = putToken("21600");
    HttpResponse<byte[]> document = get(DOCUMENT, token.body());

    assertThat(token.statusCode()).isEqualTo(200);
    assertThat(token.headers().firstValue(TTL_HEADER)).hasValue("21600");
    assertThat(token.body()).isNotBlank();
    assertThat(document.statusCode()).isEqualTo(200);
    assertThat(document.body()).isEqualTo(INSTANCE.document());
    assertThat(document.headers().firstValue("Content-Type")).hasValue("text/plain");
  }

  @Test
  void tokensDifferPerRequest() throws Exception {
    start(builder());

    assertThat(putToken("60").body()).isNotEqualTo(putToken("60").body());
  }

  @ParameterizedTest
  @ValueSource(strings = {"document", "signature", "rsa2048", "pkcs7"})
  void identityPathIsStable(String name) throws Exception {
    start(builder());
    String path = "/latest/dynamic/instance-identity/" + name;

    byte[] first = get(path, null).body();
    byte[] second = get(path, putToken("60").body()).body();

    assertThat(first).isNotEmpty();
    assertThat(second).isEqualTo(first);
  }

  @Test
  void imdsV1IsAllowedByDefault() throws Exception {
    start(builder());

    HttpResponse<byte[]> response = get(DOCUMENT, null);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo(INSTANCE.document());
  }

  @Test
  void imdsV2OnlyRejectsRequestWithoutToken() throws Exception {
    start(builder().imdsV2Only(true));

    assertThat(get(DOCUMENT, null).statusCode()).isEqualTo(401);
    assertThat(get("/latest/meta-data/instance-id", null).statusCode()).isEqualTo(401);
  }

  @Test
  void imdsV2OnlyAcceptsValidToken() throws Exception {
    start(builder().imdsV2Only(true));

    HttpResponse<byte[]> response = get(DOCUMENT, putToken("60").body());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo(INSTANCE.document());
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "21601", "-1", "1.5", "abc", "", "99999999999"})
  void tokenTtlOutOfBoundsIsBadRequest(String ttl) throws Exception {
    start(builder());

    HttpResponse<String> response = putToken(ttl);

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.headers().firstValue(TTL_HEADER)).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"1", "21600"})
  void tokenTtlAtBoundsIsAccepted(String ttl) throws Exception {
    start(builder());

    HttpResponse<String> response = putToken(ttl);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue(TTL_HEADER)).hasValue(ttl);
  }

  @Test
  void tokenWithoutTtlIsBadRequest() throws Exception {
    start(builder());

    HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/latest/api/token"))
        .PUT(HttpRequest.BodyPublishers.noBody()));

    assertThat(response.statusCode()).isEqualTo(400);
  }

  @Test
  void tokenWithXForwardedForIsForbidden() throws Exception {
    start(builder());

    HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/latest/api/token"))
        .header(TTL_HEADER, "60")
        .header("X-Forwarded-For", "203.0.113.7")
        .PUT(HttpRequest.BodyPublishers.noBody()));

    assertThat(response.statusCode()).isEqualTo(403);
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void unknownTokenIsUnauthorized(boolean imdsV2Only) throws Exception {
    start(builder().imdsV2Only(imdsV2Only));
    putToken("60");

    assertThat(get(DOCUMENT, "not-a-token-this-emulator-issued").statusCode()).isEqualTo(401);
    assertThat(get(DOCUMENT, "").statusCode()).isEqualTo(401);
  }

  @Test
  void expiredTokenIsUnauthorized() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2024-05-06T08:00:00Z"));
    start(builder().clock(clock));
    String token = putToken("60").body();

    clock.set(Instant.parse("2024-05-06T08:00:59Z"));
    int beforeExpiry = get(DOCUMENT, token).statusCode();
    clock.set(Instant.parse("2024-05-06T08:01:00Z"));
    int atExpiry = get(DOCUMENT, token).statusCode();

    assertThat(beforeExpiry).isEqualTo(200);
    assertThat(atExpiry).isEqualTo(401);
  }

  @Test
  void tokenFromOtherEmulatorIsUnauthorized() throws Exception {
    String foreignToken;
    try (AwsMetadataEmulator other = builder().start()) {
      foreignToken = send(HttpRequest.newBuilder(other.endpoint().resolve("/latest/api/token"))
          .header(TTL_HEADER, "60")
          .PUT(HttpRequest.BodyPublishers.noBody())).body();
    }
    start(builder());

    assertThat(get(DOCUMENT, foreignToken).statusCode()).isEqualTo(401);
  }

  @Test
  void droppedTokenPutTimesOut() throws Exception {
    start(builder().dropTokenPut(true));
    HttpRequest put = HttpRequest.newBuilder(uri("/latest/api/token"))
        .header(TTL_HEADER, "60")
        .timeout(Duration.ofSeconds(1))
        .PUT(HttpRequest.BodyPublishers.noBody())
        .build();

    // More attempts than the emulator has threads: a held request must not occupy one.
    for (int attempt = 0; attempt < 5; attempt++) {
      assertThatThrownBy(() -> client.send(put, HttpResponse.BodyHandlers.ofString()))
          .isInstanceOf(HttpTimeoutException.class);
    }
    HttpResponse<byte[]> document = get(DOCUMENT, null);

    assertThat(document.statusCode()).isEqualTo(200);
    assertThat(document.body()).isEqualTo(INSTANCE.document());
  }

  @Test
  @Timeout(60) // guards against a hang only
  void closeEndsHeldTokenPut() throws Exception {
    start(builder().dropTokenPut(true));
    try (Socket socket = new Socket(emulator.endpoint().getHost(), emulator.endpoint().getPort())) {
      socket.setSoTimeout((int) REQUEST_TIMEOUT.toMillis());
      OutputStream out = socket.getOutputStream();
      out.write(("PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1\r\n" + TTL_HEADER
          + ": 60\r\nContent-Length: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      while (emulator.heldRequestCount() == 0) {
        Thread.sleep(10);
      }

      emulator.close();

      assertThat(readUntilClosed(socket.getInputStream())).isEmpty();
    }
  }

  @Test
  void signaturesVerifyWithSignerCertificates() throws Exception {
    start(builder());
    String token = putToken("60").body();
    byte[] document = get(DOCUMENT, token).body();

    byte[] signature = base64(get("/latest/dynamic/instance-identity/signature", token));
    byte[] rsa2048 = base64(get("/latest/dynamic/instance-identity/rsa2048", token));
    byte[] pkcs7 = base64(get("/latest/dynamic/instance-identity/pkcs7", token));

    assertThat(verifyRsa(document, signature, signer.certificates().get(0))).isTrue();
    assertThat(verifyCms(rsa2048, signer.certificates().get(0))).isEqualTo(document);
    assertThat(verifyCms(pkcs7, signer.certificates().get(1))).isEqualTo(document);
  }

  @ParameterizedTest
  @ValueSource(strings = {"signature", "rsa2048", "pkcs7"})
  void signatureTextIsBase64WrappedAt76(String name) throws Exception {
    start(builder());

    String text = new String(
        get("/latest/dynamic/instance-identity/" + name, null).body(), StandardCharsets.US_ASCII);

    assertThat(text).matches("[A-Za-z0-9+/=\n]+").doesNotEndWith("\n");
    String[] lines = text.split("\n");
    for (int i = 0; i < lines.length - 1; i++) {
      assertThat(lines[i]).hasSize(76);
    }
    assertThat(lines[lines.length - 1].length()).isBetween(1, 76);
  }

  static Stream<Arguments> metadataPaths() {
    return Stream.of(
        Arguments.of("/latest/meta-data/instance-id", "i-0123456789abcdef0"),
        Arguments.of("/latest/meta-data/local-ipv4", "10.1.2.3"),
        Arguments.of("/latest/meta-data/local-hostname",
            "ip-10-1-2-3.us-west-2.compute.internal"),
        Arguments.of("/latest/meta-data/hostname", "ip-10-1-2-3.us-west-2.compute.internal"),
        Arguments.of("/latest/meta-data/placement/region", "us-west-2"),
        Arguments.of("/latest/meta-data/placement/availability-zone", "us-west-2a"),
        Arguments.of("/latest/meta-data/ami-id", "ami-0fedcba9876543210"),
        Arguments.of("/latest/meta-data/instance-type", "t3.micro"),
        Arguments.of("/latest/meta-data/", "ami-id\nhostname\ninstance-id\ninstance-type\n"
            + "local-hostname\nlocal-ipv4\nplacement/"),
        Arguments.of("/latest/meta-data", "ami-id\nhostname\ninstance-id\ninstance-type\n"
            + "local-hostname\nlocal-ipv4\nplacement/"),
        Arguments.of("/latest/meta-data/placement/", "availability-zone\nregion"),
        Arguments.of("/latest/dynamic/", "instance-identity/"),
        Arguments.of("/latest/dynamic/instance-identity/", "document\npkcs7\nrsa2048\nsignature"),
        Arguments.of("/latest/", "dynamic\nmeta-data"),
        Arguments.of("/", "latest"));
  }

  @ParameterizedTest
  @MethodSource("metadataPaths")
  void metadataPathReturnsValue(String path, String expected) throws Exception {
    start(builder());

    HttpResponse<byte[]> response = get(path, putToken("60").body());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo(expected);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("text/plain");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "/latest/meta-data/no-such-key",
      "/latest/meta-data/instance-id/",
      "/latest/meta-data/iam/security-credentials/",
      "/latest/dynamic/instance-identity/doc",
      "/latest/user-data",
      "/2021-07-15/meta-data/instance-id",
      "/latestx",
  })
  void unknownPathIsNotFound(String path) throws Exception {
    start(builder());

    assertThat(get(path, null).statusCode()).isEqualTo(404);
  }

  @ParameterizedTest
  @CsvSource({
      "POST, /latest/meta-data/instance-id, GET",
      "PUT, /latest/dynamic/instance-identity/document, GET",
      "DELETE, /latest/meta-data/, GET",
      "GET, /latest/api/token, PUT",
      "POST, /latest/api/token, PUT",
  })
  void wrongMethodIsNotAllowed(String method, String path, String allowed) throws Exception {
    start(builder());

    HttpResponse<String> response = send(HttpRequest.newBuilder(uri(path))
        .header(TTL_HEADER, "60")
        .method(method, HttpRequest.BodyPublishers.noBody()));

    assertThat(response.statusCode()).isEqualTo(405);
    assertThat(response.headers().firstValue("Allow")).hasValue(allowed);
  }

  @Test
  void closeIsIdempotentAndStopsServing() throws Exception {
    start(builder());
    URI document = uri(DOCUMENT);

    emulator.close();
    emulator.close();

    assertThatThrownBy(() -> client.send(HttpRequest.newBuilder(document).GET()
        .timeout(REQUEST_TIMEOUT).build(), HttpResponse.BodyHandlers.ofByteArray()))
        .isInstanceOf(IOException.class);
  }

  private AwsMetadataEmulator.Builder builder() {
    return AwsMetadataEmulator.builder().signer(signer).instance(INSTANCE);
  }

  private void start(AwsMetadataEmulator.Builder builder) {
    emulator = builder.start();
  }

  private URI uri(String path) {
    return emulator.endpoint().resolve(path);
  }

  private HttpResponse<String> putToken(String ttl) throws Exception {
    return send(HttpRequest.newBuilder(uri("/latest/api/token"))
        .header(TTL_HEADER, ttl)
        .PUT(HttpRequest.BodyPublishers.noBody()));
  }

  private HttpResponse<byte[]> get(String path, String token) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).timeout(REQUEST_TIMEOUT);
    if (token != null) {
      request.header(TOKEN_HEADER, token);
    }
    return client.send(request.GET().build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return client.send(request.timeout(REQUEST_TIMEOUT).build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.US_ASCII));
  }

  private static byte[] base64(HttpResponse<byte[]> response) {
    assertThat(response.statusCode()).isEqualTo(200);
    return Base64.getMimeDecoder().decode(response.body());
  }

  private static boolean verifyRsa(byte[] document, byte[] signature, X509Certificate certificate)
      throws Exception {
    Signature verifier = Signature.getInstance("SHA256withRSA");
    verifier.initVerify(certificate.getPublicKey());
    verifier.update(document);
    return verifier.verify(signature);
  }

  /** Verifies a CMS SignedData against one certificate and returns the signed content. */
  private static byte[] verifyCms(byte[] der, X509Certificate certificate) throws Exception {
    CMSSignedData cms = new CMSSignedData(der);
    SignerInformation signerInfo = cms.getSignerInfos().getSigners().iterator().next();
    assertThat(signerInfo.verify(new JcaSimpleSignerInfoVerifierBuilder()
        .setProvider(Providers.bouncyCastle())
        .build(certificate))).isTrue();
    return (byte[]) cms.getSignedContent().getContent();
  }

  private static byte[] readUntilClosed(InputStream in) throws IOException {
    try {
      return in.readAllBytes();
    } catch (SocketException e) {
      // A reset connection also means that no response was sent.
      return new byte[0];
    }
  }

  /** A clock that a test sets by hand. */
  private static final class MutableClock extends Clock {
    private volatile Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    void set(Instant instant) {
      now = instant;
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }
}
