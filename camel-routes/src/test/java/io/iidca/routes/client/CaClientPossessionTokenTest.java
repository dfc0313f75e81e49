package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.iidca.ca.pki.CaCertificates;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.PossessionToken;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The possession token that {@link CaClient} adds to each POST when it has a certificate:
 * captured by a plain HTTP server on 127.0.0.1, so the test reads exactly what was sent.
 */
class CaClientPossessionTokenTest {

  /** A request as the server saw it. */
  record Seen(String path, String authorization, byte[] body) {}

  private final List<Seen> seen = new CopyOnWriteArrayList<>();
  private HttpServer server;
  private URI url;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::answer);
    server.start();
    url = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private void answer(HttpExchange exchange) throws IOException {
    seen.add(new Seen(exchange.getRequestURI().getPath(),
        exchange.getRequestHeaders().getFirst("Authorization"),
        exchange.getRequestBody().readAllBytes()));
    byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(201, body.length);
    exchange.getResponseBody().write(body);
    exchange.close();
  }

  @Test
  void clientSignsEachPostBody() throws Exception {
    KeyPair keys = KeySpec.EC_P256.generate();
    X509Certificate certificate = CaCertificates.root("holder", keys, Instant.now());
    CaClient client = new CaClient(url, SSLContext.getDefault(), Duration.ofSeconds(5),
        keys.getPrivate(), certificate);

    client.post("/1.0/rekey", Map.of("csr", "CSR"));
    client.post("/1.0/rekey", Map.of("csr", "CSR"));

    assertThat(seen).hasSize(2);
    Seen first = seen.get(0);
    assertThat(first.authorization()).startsWith("Bearer ");
    SignedJWT jwt = SignedJWT.parse(first.authorization().substring("Bearer ".length()));
    assertThat(jwt.verify(new ECDSAVerifier((ECPublicKey) keys.getPublic()))).isTrue();
    assertThat(jwt.getHeader().getX509CertChain().get(0).decode())
        .isEqualTo(certificate.getEncoded());
    assertThat(jwt.getJWTClaimsSet().getAudience()).containsExactly(url + "/1.0/rekey");
    assertThat(jwt.getJWTClaimsSet().getStringClaim(PossessionToken.BODY_HASH_CLAIM))
        .isEqualTo(Base64URL.encode(MessageDigest.getInstance("SHA-256")
            .digest(first.body())).toString());
    SignedJWT second = SignedJWT.parse(seen.get(1).authorization()
        .substring("Bearer ".length()));
    assertThat(second.getJWTClaimsSet().getJWTID())
        .isNotEqualTo(jwt.getJWTClaimsSet().getJWTID());
  }

  @Test
  void clientWithoutCertificateSendsNoToken() throws Exception {
    CaClient client = new CaClient(url, SSLContext.getDefault(), Duration.ofSeconds(5),
        duration -> { }, () -> 0);

    client.post("/1.0/sign", Map.of("csr", "CSR"));

    assertThat(seen).hasSize(1);
    assertThat(seen.get(0).authorization()).isNull();
  }
}
