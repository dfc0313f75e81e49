package io.iidca.ca.azure;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback stand-in for a tenant's login host: the OpenID configuration and a JWKS with one
 * generated RSA key, with switches for failures and Cache-Control, and counters of fetches.
 */
final class TestTenant implements AutoCloseable {

  static final String TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  static final String SUBSCRIPTION = "0a1b2c3d-0000-4000-8000-00000000000a";
  static final String OBJECT_ID = "11111111-2222-4333-8444-555555555555";
  static final String MIRID = "/subscriptions/" + SUBSCRIPTION + "/resourcegroups/web-rg"
      + "/providers/Microsoft.Compute/virtualMachines/web-1";

  final KeyPair key;
  final String keyId = "test-key-1";
  volatile String jwks;
  volatile String cacheControl = "max-age=3600";
  volatile int status = 200;
  final AtomicInteger configFetches = new AtomicInteger();
  final AtomicInteger keyFetches = new AtomicInteger();
  private final HttpServer server;

  TestTenant() throws Exception {
    key = AzureTestPki.rsa();
    jwks = jwks(keyId, key);
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/" + TENANT + "/v2.0/.well-known/openid-configuration",
        exchange -> {
          configFetches.incrementAndGet();
          send(exchange, "{\"issuer\":\"" + base() + "/{tenantid}/v2.0\",\"jwks_uri\":\""
              + base() + "/keys\"}");
        });
    server.createContext("/keys", exchange -> {
      keyFetches.incrementAndGet();
      send(exchange, jwks);
    });
    server.start();
  }

  static String jwks(String keyId, KeyPair key) {
    return new JWKSet(new RSAKey.Builder((RSAPublicKey) key.getPublic()).keyID(keyId).build())
        .toString();
  }

  String base() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  URI openIdConfigUrl() {
    return URI.create(base() + "/" + TENANT + "/v2.0/.well-known/openid-configuration");
  }

  String v2Issuer() {
    return base() + "/" + TENANT + "/v2.0";
  }

  /** Returns claims of a valid v1 managed-identity token issued at {@code now}. */
  static JWTClaimsSet.Builder claims(Instant now) {
    return new JWTClaimsSet.Builder()
        .issuer("https://sts.windows.net/" + TENANT + "/")
        .audience("https://management.azure.com/")
        .issueTime(Date.from(now))
        .notBeforeTime(Date.from(now))
        .expirationTime(Date.from(now.plusSeconds(86_400)))
        .subject(OBJECT_ID)
        .claim("oid", OBJECT_ID)
        .claim("tid", TENANT)
        .claim("ver", "1.0")
        .claim("xms_mirid", MIRID);
  }

  String sign(JWTClaimsSet claims) throws Exception {
    return sign(claims, keyId, (RSAPrivateKey) key.getPrivate());
  }

  static String sign(JWTClaimsSet claims, String keyId, RSAPrivateKey privateKey)
      throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(keyId)
        .build(), claims);
    jwt.sign(new RSASSASigner(privateKey));
    return jwt.serialize();
  }

  private void send(HttpExchange exchange, String body) throws IOException {
    byte[] bytes = (status == 200 ? body : "{\"error\":\"test failure\"}")
        .getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    if (cacheControl != null) {
      exchange.getResponseHeaders().set("Cache-Control", cacheControl);
    }
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
