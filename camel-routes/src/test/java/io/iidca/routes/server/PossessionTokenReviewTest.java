package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.spi.ILoggingEvent;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.PossessionToken;
import io.iidca.ca.provisioner.AdminToken;
import io.iidca.routes.client.CaClient;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.pki.TestCa;
import io.netty.handler.ssl.OpenSsl;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.interfaces.ECPrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Attacks on the possession-token fixes against a real CA over HTTPS. The cases: a token beside
 * a TLS certificate that cannot be parsed or carries hostile header text, and a certificate
 * whose token does not fit in an HTTP header. Also the audit lines of rejected revocations, the
 * used-token scopes, and mutual TLS with ALPN and many handshakes on the engine this JVM
 * selects.
 */
class PossessionTokenReviewTest extends PossessionTokenCaTest {

  static final String OPEN = "open";

  /** Adds {@value #OPEN}, which allows any number of enrollments per instance. */
  @Override
  void addProvisioners(String certificates) throws Exception {
    ca.addProvisioner(new ProvisionerConfig(OPEN, "AWS", Lifetime.DEFAULT, false, true,
        null, List.of(ACCOUNT), ProvisionerConfig.DEFAULT_AWS_FORMS, List.of(certificates)));
  }

  Enrolled enroll(List<String> sans) throws Exception {
    return enroll(FLEET, AwsInstance.random(ACCOUNT, "us-east-1"), sans);
  }

  /** Builds a possession token signed by the holder, with the given typ. */
  String tokenWithType(Enrolled holder, String path, byte[] body, String type) throws Exception {
    Instant now = Instant.now();
    JWTClaimsSet claims = new JWTClaimsSet.Builder()
        .audience(caUrl + path)
        .issueTime(Date.from(now))
        .notBeforeTime(Date.from(now))
        .expirationTime(Date.from(now.plus(Duration.ofMinutes(5))))
        .jwtID("typ-" + holder.certificate().getSerialNumber().toString(16))
        .claim("body_sha256", Base64URL.encode(
            MessageDigest.getInstance("SHA-256").digest(body)).toString())
        .build();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256)
        .type(new JOSEObjectType(type))
        .x509CertChain(List.of(Base64.encode(holder.certificate().getEncoded())))
        .build(), claims);
    jwt.sign(new ECDSASigner((ECPrivateKey) holder.keys().getPrivate()));
    return jwt.serialize();
  }

  List<String> auditLinesSince(int from) {
    return new ArrayList<>(everything.list.subList(from, everything.list.size())).stream()
        .filter(event -> event.getLoggerName().equals("iidca.audit"))
        .map(ILoggingEvent::getFormattedMessage).toList();
  }

  String token(Enrolled holder, String path, byte[] body) throws Exception {
    return PossessionToken.issue(holder.keys().getPrivate(), holder.certificate(), caUrl + path,
        body, Instant.now());
  }

  /** Sends a sign request with raw body bytes and a possession token. */
  int rawSign(byte[] body, String contentType, String token) throws Exception {
    HttpClient http = HttpClient.newBuilder().sslContext(CaClient.pinnedContext(ca.root()))
        .build();
    return http.send(HttpRequest.newBuilder(URI.create(caUrl + "/1.0/sign"))
        .header("Content-Type", contentType)
        .header("Authorization", "Bearer " + token)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  /** Builds a token that names the holder's certificate, signed by {@code signingKey}. */
  String tokenWithId(Enrolled holder, KeyPair signingKey, String path, byte[] body, String jti,
      Instant expiry) throws Exception {
    JWTClaimsSet claims = new JWTClaimsSet.Builder()
        .audience(caUrl + path)
        .issueTime(Date.from(expiry.minus(Duration.ofMinutes(5))))
        .notBeforeTime(Date.from(expiry.minus(Duration.ofMinutes(5))))
        .expirationTime(Date.from(expiry))
        .jwtID(jti)
        .claim("body_sha256", Base64URL.encode(
            MessageDigest.getInstance("SHA-256").digest(body)).toString())
        .build();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256)
        .type(new JOSEObjectType(PossessionToken.TYPE))
        .x509CertChain(List.of(Base64.encode(holder.certificate().getEncoded())))
        .build(), claims);
    jwt.sign(new ECDSASigner((ECPrivateKey) signingKey.getPrivate()));
    return jwt.serialize();
  }

  @Test
  void signTokenTypeCannotForgeLogLines() throws Exception {
    Enrolled holder = enroll();
    Map<String, Object> body = new SignRequestBuilder(signer, holder.instance(), caUrl, FLEET)
        .body();
    String token = tokenWithType(holder, "/1.0/sign", bytes(body),
        "x\n2026-12-06T04:00:00.000Z INFO  audit event=revoke outcome=done serial=1");
    int from = everything.list.size();

    int status = rawSign(bytes(body), "application/json", token);

    assertThat(status).isEqualTo(403);
    List<String> messages = new ArrayList<>(everything.list.subList(from,
        everything.list.size())).stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertThat(messages).anyMatch(message -> message.contains("presented certificate ignored"));
    assertThat(messages).allSatisfy(message -> assertThat(message).doesNotContain("\n"));
  }

  @Test
  void tokenReenrollsWithoutTrustOnFirstUse() throws Exception {
    AwsInstance instance = AwsInstance.random(ACCOUNT, "us-east-1");
    Enrolled holder = enroll(OPEN, instance, List.of());
    byte[] body = bytes(new SignRequestBuilder(signer, instance, caUrl, OPEN).body());

    int status = rawSign(body, "application/json", token(holder, "/1.0/sign", body));

    assertThat(status).isEqualTo(201);
  }

  @Test
  void tokenCannotReenrollOtherInstance() throws Exception {
    Enrolled first = enroll();
    Enrolled second = enroll();
    byte[] body = bytes(new SignRequestBuilder(signer, second.instance(), caUrl, FLEET)
        .body());

    int status = rawSign(body, "application/json", token(first, "/1.0/sign", body));

    assertThat(status).isEqualTo(403);
  }

  @Test
  void tokenReenrollsWithUtf16Body() throws Exception {
    Enrolled holder = enroll();
    String json = new String(bytes(new SignRequestBuilder(signer, holder.instance(), caUrl,
        FLEET).body()), StandardCharsets.UTF_8);
    byte[] body = json.getBytes(StandardCharsets.UTF_16BE);

    int status = rawSign(body, "application/json; charset=UTF-16BE",
        token(holder, "/1.0/sign", body));

    assertThat(status).isEqualTo(201);
  }

  @Test
  void replayedHolderTokenAuditStage() throws Exception {
    Enrolled holder = enroll();
    Enrolled other = enroll();
    // A revocation of another holder's certificate: the token is used up, then rejected.
    Map<String, Object> revoke = Map.of("serial",
        other.certificate().getSerialNumber().toString(), "reasonCode", 9);
    String token = token(holder, "/1.0/revoke", bytes(revoke));
    CaClient.Response first = plain().post("/1.0/revoke", revoke, token);
    assertThat(first.status()).isEqualTo(401);
    int from = everything.list.size();

    CaClient.Response replay = plain().post("/1.0/revoke", revoke, token);

    List<String> lines = auditLinesSince(from);
    assertThat(replay.status()).isEqualTo(401);
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0)).contains("replay");
    assertThat(lines.get(0)).contains(" stage=revoke ");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/1.0/revoke", "/revoke"})
  void oversizedRevocationIsAudited(String path) throws Exception {
    String padding = "a".repeat(2 * 1024 * 1024);
    byte[] body = bytes(Map.of("serial", "1", "reason", padding));
    int from = everything.list.size();

    HttpResponse<String> response = HttpClient.newBuilder()
        .sslContext(CaClient.pinnedContext(ca.root())).build()
        .send(HttpRequest.newBuilder(URI.create(caUrl + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
            HttpResponse.BodyHandlers.ofString());

    List<String> lines = auditLinesSince(from);
    assertThat(response.statusCode()).isEqualTo(413);
    assertThat(lines).as("audit lines of a revocation with a 2 MiB body").hasSize(1);
    assertThat(lines.get(0)).startsWith("event=revoke outcome=rejected status=413");
  }

  @Test
  void chunkedSignBodyReenrolls() throws Exception {
    Enrolled holder = enroll();
    byte[] body = bytes(new SignRequestBuilder(signer, holder.instance(), caUrl, FLEET).body());
    HttpClient http = HttpClient.newBuilder().sslContext(CaClient.pinnedContext(ca.root()))
        .version(HttpClient.Version.HTTP_1_1).build();

    // ofInputStream has no known length, so the client sends the body chunked.
    int status = http.send(HttpRequest.newBuilder(URI.create(caUrl + "/1.0/sign"))
        .header("Content-Type", "application/json")
        .header("Authorization", "Bearer " + token(holder, "/1.0/sign", body))
        .POST(HttpRequest.BodyPublishers.ofInputStream(
            () -> new java.io.ByteArrayInputStream(body)))
        .build(), HttpResponse.BodyHandlers.ofString()).statusCode();

    assertThat(status).isEqualTo(201);
  }

  @Test
  void failingTokensBesideTlsBurnNoId() throws Exception {
    Enrolled holder = enroll();
    byte[] empty = bytes(Map.of());
    Instant later = Instant.now().plus(Duration.ofMinutes(4));
    List<String> failing = List.of(
        tokenWithId(holder, KeySpec.EC_P256.generate(), "/1.0/renew", empty, "forged", later),
        tokenWithId(holder, holder.keys(), "/1.0/renew", empty, "expired",
            Instant.now().minus(Duration.ofMinutes(10))),
        tokenWithId(holder, holder.keys(), "/1.0/rekey", empty, "other-path", later),
        tokenWithId(holder, holder.keys(), "/1.0/renew", bytes(Map.of("a", 1)), "other-body",
            later));
    for (String token : failing) {
      CaClient.Response overTls = presenting(holder).post("/1.0/renew", Map.of(), token);
      assertThat(overTls.status()).as(overTls.message()).isEqualTo(201);
    }
    for (String id : List.of("forged", "expired", "other-path", "other-body")) {
      CaClient.Response response = plain().post("/1.0/renew", Map.of(),
          tokenWithId(holder, holder.keys(), "/1.0/renew", empty, id, later));
      assertThat(response.status()).as("genuine token with id " + id).isEqualTo(201);
    }
  }

  @Test
  void boringSslSendsNoTls13Ticket() throws Exception {
    Enrolled holder = enroll();
    SSLContext context = clientContext(holder);
    long[] created = new long[2];
    for (int i = 0; i < 2; i++) {
      try (SSLSocket socket = (SSLSocket) context.getSocketFactory()
          .createSocket("127.0.0.1", server.port())) {
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setProtocols(new String[] {"TLSv1.3"});
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        OutputStream out = socket.getOutputStream();
        out.write(("GET /1.0/crl HTTP/1.1\r\nHost: ca.local\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        socket.getInputStream().readAllBytes();
        created[i] = socket.getSession().getCreationTime();
      }
      Thread.sleep(20);
    }

    // A resumed session keeps the creation time of the session it resumes.
    assertThat(created[1]).as("second connection resumed the first session")
        .isNotEqualTo(created[0]);
  }

  @Test
  void unparsableTokenBesideTlsCertificate() throws Exception {
    Enrolled holder = enroll();

    CaClient.Response renewal = presenting(holder).post("/1.0/renew", Map.of(), "not-a-jwt");

    // A token beside the TLS certificate that fails its own checks should be logged and change
    // nothing, because the TLS handshake has proven the key.
    assertThat(renewal.status()).as(renewal.message()).isEqualTo(201);
  }

  @Test
  void tokenTypeBesideTlsCannotForgeLogLines() throws Exception {
    Enrolled holder = enroll();
    byte[] body = new ObjectMapper().writeValueAsBytes(Map.of());
    String token = tokenWithType(holder, "/1.0/renew", body,
        "x\n2026-12-06T04:00:00.000Z INFO  audit event=revoke outcome=done serial=1");
    int from = everything.list.size();

    CaClient.Response renewal = presenting(holder).post("/1.0/renew", Map.of(), token);

    assertThat(renewal.status()).as(renewal.message()).isEqualTo(201);
    List<String> messages = new ArrayList<>(everything.list.subList(from,
        everything.list.size())).stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertThat(messages).anyMatch(message -> message.contains("not used"));
    assertThat(messages).allSatisfy(message -> assertThat(message).doesNotContain("\n"));
  }

  @Test
  void largeCertificateRenewsOverTls() throws Exception {
    List<String> sans = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      sans.add("host-" + i + "-" + "a".repeat(50) + "." + "b".repeat(40) + ".internal");
    }
    Enrolled holder = enroll(sans);

    // iidca's client: the certificate over mutual TLS, and a possession token beside it.
    CaClient.Response renewal = presenting(holder).post("/1.0/renew", Map.of());

    assertThat(holder.certificate().getEncoded().length).isGreaterThan(5000);
    assertThat(renewal.status()).as(renewal.message()).isEqualTo(201);
  }

  @Test
  void rejectedRevocationsWriteOneAuditLine() throws Exception {
    Enrolled holder = enroll();
    // An operator token signed by a key other than the intermediate's.
    String operatorToken = AdminToken.issue(KeySpec.EC_P256.generate().getPrivate(), caUrl,
        "/1.0/revoke", Instant.now());
    List<Map<String, Object>> bodies = List.of(
        Map.of("reasonCode", 1),
        Map.of("serial", "zz", "reasonCode", 1),
        Map.of("serial", holder.certificate().getSerialNumber().toString(), "ott", operatorToken),
        Map.of("serial", holder.certificate().getSerialNumber().toString(), "ott", "x.y.z"));
    for (Map<String, Object> body : bodies) {
      int from = everything.list.size();

      CaClient.Response response = plain().post("/1.0/revoke", body);

      List<String> lines = auditLinesSince(from);
      assertThat(response.status()).as(body.toString()).isBetween(400, 499);
      assertThat(lines).as(body.toString()).hasSize(1);
      assertThat(lines.get(0)).as(body.toString()).startsWith("event=revoke");
      assertThat(lines.get(0)).doesNotContain(operatorToken.substring(
          operatorToken.lastIndexOf('.') + 1, operatorToken.lastIndexOf('.') + 20));
    }
    int from = everything.list.size();
    HttpResponse<String> malformed = HttpClient.newBuilder()
        .sslContext(CaClient.pinnedContext(ca.root())).build()
        .send(HttpRequest.newBuilder(URI.create(caUrl + "/1.0/revoke"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"serial\": ")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(malformed.statusCode()).isEqualTo(400);
    assertThat(auditLinesSince(from)).hasSize(1);
  }

  @Test
  void provisionerNameCannotTakeTokenScope() throws Exception {
    TestCa other = TestCa.create(Files.createTempDirectory(directory, "scope"));
    String certificates = other.writeCertificates("emulator", signer.certificates());

    // Operator tokens' ids are recorded under "#operator", holders' under
    // "#certificate holder <serial>", and an AWS instance chooses its own jti.
    for (String name : List.of(LifecycleHandlers.OPERATOR_TOKEN_SCOPE,
        PeerCertificates.TOKEN_SCOPE + " 1")) {
      assertThatThrownBy(() -> other.addProvisioner(new ProvisionerConfig(name, "AWS",
          Lifetime.DEFAULT, false, false, null, List.of(ACCOUNT),
          ProvisionerConfig.DEFAULT_AWS_FORMS, List.of(certificates))))
          .as("a provisioner named %s", name).hasMessageContaining("#");
    }
  }

  @Test
  void mutualTlsWithAlpnOnSelectedEngine() throws Exception {
    Enrolled holder = enroll();
    HttpClient http2 = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_2)
        .sslContext(clientContext(holder))
        .build();

    HttpResponse<String> renewal = http2.send(HttpRequest.newBuilder(
        URI.create(caUrl + "/1.0/renew"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
        HttpResponse.BodyHandlers.ofString());

    assertThat(OpenSsl.isAvailable()).as("BoringSSL engine under test").isTrue();
    assertThat(renewal.statusCode()).as(renewal.body()).isEqualTo(201);
    // The CA enables no ALPN protocol other than HTTP/1.1, so the client falls back to it.
    assertThat(renewal.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
  }

  @Test
  void manyHandshakesWithClientCertificate() throws Exception {
    Enrolled holder = enroll();
    SSLContext context = clientContext(holder);
    int port = server.port();
    io.netty.util.ResourceLeakDetector.Level level = io.netty.util.ResourceLeakDetector
        .getLevel();
    io.netty.util.ResourceLeakDetector.setLevel(
        io.netty.util.ResourceLeakDetector.Level.PARANOID);
    int from = everything.list.size();
    for (int i = 0; i < 1000; i++) {
      if (i % 500 == 499) {
        System.gc();
        Thread.sleep(200);
      }
      try (SSLSocket socket = (SSLSocket) context.getSocketFactory()
          .createSocket("127.0.0.1", port)) {
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setApplicationProtocols(new String[] {"http/1.1"});
        parameters.setProtocols(new String[] {i % 2 == 0 ? "TLSv1.3" : "TLSv1.2"});
        parameters.setServerNames(List.of(new SNIHostName("ca.local")));
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        if (i % 500 == 0) {
          OutputStream out = socket.getOutputStream();
          out.write(("GET /1.0/crl HTTP/1.1\r\nHost: ca.local\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
          out.flush();
          InputStream in = socket.getInputStream();
          String status = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
          assertThat(status).as("handshake " + i).isEqualTo("HTTP/1.1 200");
        }
      }
    }

    io.netty.util.ResourceLeakDetector.setLevel(level);
    CaClient.Response renewal = presenting(holder).post("/1.0/renew", Map.of());

    assertThat(renewal.status()).as(renewal.message()).isEqualTo(201);
    assertThat(new ArrayList<>(everything.list.subList(from, everything.list.size())))
        .noneMatch(event -> event.getFormattedMessage().contains("LEAK"));
  }

  SSLContext clientContext(Enrolled holder) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("root", ca.root());
    TrustManagerFactory trustFactory = TrustManagerFactory.getInstance("PKIX");
    trustFactory.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(new KeyManager[] {new TlsEngineClientCertificateTest.OneKey(
        holder.keys().getPrivate(), new X509Certificate[] {holder.certificate(),
            server.runtime().issuer().certificate()})}, trustFactory.getTrustManagers(), null);
    return context;
  }
}
