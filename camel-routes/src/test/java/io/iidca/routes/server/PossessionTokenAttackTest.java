package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.PossessionToken;
import io.iidca.routes.client.CaClient;
import io.iidca.routes.client.CsrBuilder;
import io.iidca.testkit.aws.AwsInstance;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.security.interfaces.ECPrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * Attacks on possession tokens against a real CA over HTTPS. The cases: re-enrollment with a
 * token, the scope of a token's id, and a token beside a TLS client certificate, agreeing or
 * not. Also racing replays, paths other than the token's audience, the audit line of a
 * rejected revocation, and tokens in the CA's log.
 */
class PossessionTokenAttackTest extends PossessionTokenCaTest {

  String token(Enrolled held, String path, Map<String, Object> body) throws Exception {
    return PossessionToken.issue(held.keys().getPrivate(), held.certificate(), caUrl + path,
        bytes(body), Instant.now());
  }

  /** Builds a token as {@link PossessionToken#issue} does, but with the given jti. */
  String tokenWithId(Enrolled held, String path, byte[] body, String jti) throws Exception {
    Instant now = Instant.now();
    JWTClaimsSet claims = new JWTClaimsSet.Builder()
        .audience(caUrl + path)
        .issueTime(Date.from(now))
        .notBeforeTime(Date.from(now))
        .expirationTime(Date.from(now.plus(Duration.ofMinutes(5))))
        .jwtID(jti)
        .claim(PossessionToken.BODY_HASH_CLAIM, Base64URL.encode(
            MessageDigest.getInstance("SHA-256").digest(body)).toString())
        .build();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256)
        .type(new JOSEObjectType(PossessionToken.TYPE))
        .x509CertChain(List.of(Base64.encode(held.certificate().getEncoded())))
        .build(), claims);
    jwt.sign(new ECDSASigner((ECPrivateKey) held.keys().getPrivate()));
    return jwt.serialize();
  }

  static String jti(String token) throws Exception {
    return SignedJWT.parse(token).getJWTClaimsSet().getJWTID();
  }

  CaClient.Response withToken(String path, Map<String, Object> body, String token)
      throws Exception {
    return plain().post(path, body, token);
  }

  String serial(Enrolled held) {
    return held.certificate().getSerialNumber().toString(16);
  }

  @Test
  void tokenAuthorizesReenrollment() throws Exception {
    Enrolled held = enroll();
    Map<String, Object> body = new SignRequestBuilder(signer, held.instance(), caUrl, FLEET)
        .body();

    CaClient.Response response = withToken("/1.0/sign", body, token(held, "/1.0/sign", body));

    // docs/protocol.md: the client sends a token with a sign request that presents the
    // current certificate, "so it works through a TLS terminator and against any TLS engine".
    assertThat(response.status()).as(response.message()).isEqualTo(201);
  }

  @Test
  void ed25519ClientReenrolls() throws Exception {
    AwsInstance instance = AwsInstance.random(ACCOUNT, "us-east-1");
    SignRequestBuilder first = new SignRequestBuilder(signer, instance, caUrl, FLEET)
        .keySpec(KeySpec.of("OKP", "Ed25519", null));
    CaClient.Response enrolled = plain().post("/1.0/sign", first.body());
    assertThat(enrolled.status()).as(enrolled.message()).isEqualTo(201);
    Enrolled held = new Enrolled(parse(enrolled.body().get("crt").asText()), first.keys(),
        instance);

    // iidca's own client: the certificate in TLS where the engine accepts it, and a token.
    CaClient.Response again = presenting(held).post("/1.0/sign",
        new SignRequestBuilder(signer, instance, caUrl, FLEET).body());

    assertThat(again.status()).as(again.message()).isEqualTo(201);
  }

  @Test
  void signTokenIsBoundToBody() throws Exception {
    Enrolled held = enroll();
    Map<String, Object> body = new SignRequestBuilder(signer, held.instance(), caUrl, FLEET)
        .body();
    // A token over an empty body, which the holder never signed for this request.
    String token = tokenWithId(held, "/1.0/sign", new byte[0], "empty-body-" + serial(held));

    CaClient.Response response = withToken("/1.0/sign", body, token);

    assertThat(response.status()).as("re-enrollment with a token over another body")
        .isEqualTo(403);
  }

  @Test
  void otherHolderCannotBurnTokenId() throws Exception {
    Enrolled victim = enroll();
    Enrolled attacker = enroll();
    String victimToken = token(victim, "/1.0/renew", Map.of());
    String stolenId = jti(victimToken);

    CaClient.Response attack = withToken("/1.0/renew", Map.of(),
        tokenWithId(attacker, "/1.0/renew", bytes(Map.of()), stolenId));
    CaClient.Response honest = withToken("/1.0/renew", Map.of(), victimToken);

    assertThat(attack.status()).as("attacker renews its own certificate").isEqualTo(201);
    assertThat(honest.status()).as("victim's unused token after another holder used its jti")
        .isEqualTo(201);
  }

  @Test
  void tokenBesideTlsCertificateIsUsedUp() throws Exception {
    Enrolled held = enroll();
    String token = token(held, "/1.0/renew", Map.of());
    long before = server.runtime().store().countCertificates();

    CaClient.Response overTls = presenting(held).post("/1.0/renew", Map.of(), token);
    CaClient.Response replay = withToken("/1.0/renew", Map.of(), token);

    assertThat(overTls.status()).isEqualTo(201);
    assertThat(replay.status()).as("same token again, without the TLS certificate")
        .isEqualTo(401);
    assertThat(server.runtime().store().countCertificates()).isEqualTo(before + 1);
  }

  @Test
  void tokenForOtherTlsCertificateIsRejected() throws Exception {
    // The TLS certificate is that of a re-encrypting proxy that presents its own certificate
    // upstream, and the token is that of the client behind the proxy.
    Enrolled proxy = enroll();
    Enrolled client = enroll();
    Map<String, Object> revokeProxy = Map.of("serial",
        proxy.certificate().getSerialNumber().toString(), "reasonCode", 1);

    CaClient.Response renewal = presenting(proxy).post("/1.0/renew", Map.of(),
        token(client, "/1.0/renew", Map.of()));
    CaClient.Response revocation = presenting(proxy).post("/1.0/revoke", revokeProxy,
        token(client, "/1.0/revoke", revokeProxy));

    assertThat(renewal.status()).as("renewal with the proxy's TLS certificate and the"
        + " client's token").isEqualTo(401);
    assertThat(revocation.status()).as("revocation of the proxy's certificate by a request"
        + " that carries the client's token").isEqualTo(401);
  }

  @Test
  void oldKeyRevokedAfterRekeyStopsRenewing() throws Exception {
    Enrolled held = enroll();
    Map<String, Object> rekey = Map.of("csr", CsrBuilder.build(KeySpec.EC_P256.generate(),
        "app.internal", List.of()));
    Map<String, Object> revoke = Map.of("serial",
        held.certificate().getSerialNumber().toString(), "reasonCode", 1);

    CaClient.Response rekeyed = withToken("/1.0/rekey", rekey, token(held, "/1.0/rekey", rekey));
    CaClient.Response revoked = withToken("/1.0/revoke", revoke,
        token(held, "/1.0/revoke", revoke));
    CaClient.Response renewal = withToken("/1.0/renew", Map.of(),
        token(held, "/1.0/renew", Map.of()));

    // docs/client.md: a rekey leaves the old certificate valid until its holder revokes it.
    assertThat(rekeyed.status()).as(rekeyed.message()).isEqualTo(201);
    assertThat(revoked.status()).as(revoked.message()).isEqualTo(200);
    assertThat(renewal.status()).as("renewal with the revoked, rekeyed certificate")
        .isEqualTo(403);
  }

  @Test
  void rejectedRevocationIsAudited() throws Exception {
    Enrolled held = enroll();
    Enrolled other = enroll();
    Map<String, Object> body = Map.of("serial",
        other.certificate().getSerialNumber().toString(), "reasonCode", 1);
    int from = everything.list.size();

    CaClient.Response response = withToken("/1.0/revoke", body,
        token(held, "/1.0/revoke", body));

    assertThat(response.status()).isEqualTo(401);
    // docs/protocol.md: for 401 "the message is fixed; the reason is in the audit log".
    List<String> lines = everything.list.subList(from, everything.list.size()).stream()
        .filter(event -> event.getLoggerName().equals("iidca.audit"))
        .map(ILoggingEvent::getFormattedMessage).toList();
    assertThat(lines).anyMatch(line -> line.startsWith("event=revoke serial=" + serial(other)
        + " outcome=rejected status=401") && line.contains("may revoke only itself"));
  }

  @Test
  void racingReplaysActOnce() throws Exception {
    Enrolled held = enroll();
    String token = token(held, "/1.0/renew", Map.of());
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Callable<Integer>> sends = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        sends.add(() -> withToken("/1.0/renew", Map.of(), token).status());
      }
      List<Integer> statuses = new ArrayList<>();
      for (Future<Integer> status : pool.invokeAll(sends)) {
        statuses.add(status.get());
      }

      assertThat(statuses).filteredOn(status -> status == 201).hasSize(1);
      assertThat(statuses).filteredOn(status -> status == 401).hasSize(7);
    } finally {
      pool.shutdownNow();
    }
  }

  /** Sends a renew with {@code token} to the raw {@code path}, without a TLS certificate. */
  @Test
  void replayedIdBesideTlsCannotForgeLogLines() throws Exception {
    Enrolled held = enroll();
    String token = tokenWithId(held, "/1.0/renew", bytes(Map.of()),
        "x\n2026-12-06T04:00:00.000Z INFO  audit event=revoke outcome=done serial=1");
    presenting(held).post("/1.0/renew", Map.of(), token);
    int from = everything.list.size();

    // The token is valid but used up, so the store's replay message, which contains its id,
    // goes to the log.
    presenting(held).post("/1.0/renew", Map.of(), token);

    List<String> messages = new ArrayList<>(everything.list.subList(from,
        everything.list.size())).stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertThat(messages).anyMatch(message -> message.contains("was already used"));
    assertThat(messages).allSatisfy(message -> assertThat(message).doesNotContain("\n"));
  }

  int rawRenew(String path, String token) throws Exception {
    HttpClient http = HttpClient.newBuilder().sslContext(CaClient.pinnedContext(ca.root()))
        .build();
    return http.send(HttpRequest.newBuilder(URI.create(caUrl + path))
        .header("Content-Type", "application/json")
        .header("Authorization", "Bearer " + token)
        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes(Map.of())))
        .build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  @ParameterizedTest
  @ValueSource(strings = {"/renew", "/1.0//renew", "/1.0/renew/", "/1.0/%72enew",
      "/1.0/./renew", "/1.0/rekey/../renew", "/1.0/RENEW"})
  void pathOtherThanAudienceIsRejected(String path) throws Exception {
    Enrolled held = enroll();

    int status = rawRenew(path, token(held, "/1.0/renew", Map.of()));

    assertThat(status).as(path).isNotEqualTo(201);
  }

  @Test
  void failedRequestsLogNoToken() throws Exception {
    Enrolled held = enroll();
    Enrolled other = enroll();
    Map<String, Object> csr = Map.of("csr", CsrBuilder.build(KeySpec.EC_P256.generate(),
        "app.internal", List.of()));
    List<String> tokens = new ArrayList<>();
    Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    Level level = root.getLevel();
    root.setLevel(Level.DEBUG);
    int from = everything.list.size();
    try {
      String used = token(held, "/1.0/renew", Map.of());
      tokens.add(used);
      withToken("/1.0/renew", Map.of(), used);
      withToken("/1.0/renew", Map.of(), used);
      String wrongBody = token(held, "/1.0/rekey", Map.of());
      tokens.add(wrongBody);
      withToken("/1.0/rekey", csr, wrongBody);
      String wrongSerial = token(held, "/1.0/revoke", Map.of("serial", serial(other)));
      tokens.add(wrongSerial);
      withToken("/1.0/revoke", Map.of("serial", serial(other)), wrongSerial);
      String truncated = token(held, "/1.0/renew", Map.of());
      tokens.add(truncated);
      withToken("/1.0/renew", Map.of(), truncated.substring(0, truncated.length() - 4));
      Map<String, Object> sign = new SignRequestBuilder(signer, other.instance(), caUrl, FLEET)
          .body();
      String signToken = token(held, "/1.0/sign", sign);
      tokens.add(signToken);
      withToken("/1.0/sign", sign, signToken);
    } finally {
      root.setLevel(level);
    }

    List<ILoggingEvent> events = everything.list.subList(from, everything.list.size());
    assertThat(events).isNotEmpty();
    for (ILoggingEvent event : events) {
      String text = event.getFormattedMessage() + (event.getThrowableProxy() == null ? ""
          : ThrowableProxyUtil.asString(event.getThrowableProxy()));
      for (String token : tokens) {
        String signature = token.substring(token.lastIndexOf('.') + 1);
        assertThat(text).doesNotContain(signature.substring(0, 20));
      }
    }
  }
}
