package io.iidca.ca.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.error.IdentityRejectedException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link PossessionToken}: a token signed with a certificate's key proves that key for one
 * request, and each way to forge, stretch or reuse one for another request is rejected with a
 * reason.
 */
class PossessionTokenTest {

  static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);
  static final List<String> DNS = List.of("ca.local", "127.0.0.1");
  static final String URL = "https://ca.local:8443/1.0/rekey";
  static final String PATH = "/1.0/rekey";
  static final byte[] BODY = "{\"csr\":\"CSR\"}".getBytes(StandardCharsets.UTF_8);
  static Issuer issuer;

  @BeforeAll
  static void createCa() {
    KeyPair rootKeys = KeySpec.EC_P256.generate();
    X509Certificate root = CaCertificates.root("Test", rootKeys, NOW);
    KeyPair intermediateKeys = KeySpec.EC_P256.generate();
    X509Certificate intermediate = CaCertificates.intermediate("Test",
        intermediateKeys.getPublic(), root, rootKeys.getPrivate(), NOW);
    issuer = new Issuer(intermediateKeys.getPrivate(), intermediate, root);
  }

  /** A key and the CA's certificate for it. */
  record Holder(KeyPair keys, X509Certificate certificate) {}

  static Holder holder(KeySpec spec) throws Exception {
    KeyPair keys = spec.generate();
    IssuedCertificate issued = issuer.sign(new CertificateTemplate("app.internal",
        List.of("app.internal"), keys.getPublic(), NOW.minusSeconds(60),
        NOW.plus(Duration.ofHours(1)), null));
    X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(issued.encoded()));
    return new Holder(keys, certificate);
  }

  static IdentityRejectedException rejection(String token, String path, byte[] body,
      Instant now) {
    Throwable thrown = catchThrowable(() -> PossessionToken.verify(token, DNS, path, body, now,
        "renew"));
    assertThat(thrown).isInstanceOf(IdentityRejectedException.class);
    return (IdentityRejectedException) thrown;
  }

  @ParameterizedTest
  @CsvSource({"EC, P-256, ", "EC, P-384, ", "EC, P-521, ", "RSA, , 2048", "OKP, Ed25519, "})
  void tokenProvesCertificateKey(String kty, String curve, Integer size)
      throws Exception {
    Holder holder = holder(KeySpec.of(kty, curve, size));

    String token = PossessionToken.issue(holder.keys().getPrivate(), holder.certificate(), URL,
        BODY, NOW);
    PossessionToken.Verified verified = PossessionToken.verify(token, DNS, PATH, BODY,
        NOW.plusSeconds(30), "renew");

    assertThat(verified.certificate()).isEqualTo(holder.certificate());
    assertThat(verified.tokenId()).hasSize(32);
    assertThat(verified.expiry()).isEqualTo(NOW.plus(PossessionToken.LIFETIME));
  }

  @ParameterizedTest
  @CsvSource({"EC, P-256, ", "RSA, , 2048", "OKP, Ed25519, "})
  void otherKeySignatureIsRejected(String kty, String curve, Integer size)
      throws Exception {
    KeySpec spec = KeySpec.of(kty, curve, size);
    Holder victim = holder(spec);
    KeyPair attacker = spec.generate();

    String token = PossessionToken.issue(attacker.getPrivate(), victim.certificate(), URL,
        BODY, NOW);

    assertThat(rejection(token, PATH, BODY, NOW).reason())
        .contains("not signed by the key of certificate");
  }

  @Test
  void eachTokenHasItsOwnId() throws Exception {
    Holder holder = holder(KeySpec.EC_P256);

    String first = PossessionToken.issue(holder.keys().getPrivate(), holder.certificate(), URL,
        BODY, NOW);
    String second = PossessionToken.issue(holder.keys().getPrivate(), holder.certificate(),
        URL, BODY, NOW);

    assertThat(PossessionToken.verify(first, DNS, PATH, BODY, NOW, "renew").tokenId())
        .isNotEqualTo(PossessionToken.verify(second, DNS, PATH, BODY, NOW, "renew").tokenId());
  }

  @Test
  void tokenForAnotherBodyIsRejected() throws Exception {
    Holder holder = holder(KeySpec.EC_P256);
    String token = PossessionToken.issue(holder.keys().getPrivate(), holder.certificate(), URL,
        BODY, NOW);

    byte[] swapped = "{\"csr\":\"ATTACKER\"}".getBytes(StandardCharsets.UTF_8);

    assertThat(rejection(token, PATH, swapped, NOW).reason())
        .contains("body_sha256 does not match");
  }

  @Test
  void tokenForAnotherPathIsRejected() throws Exception {
    Holder holder = holder(KeySpec.EC_P256);
    String token = PossessionToken.issue(holder.keys().getPrivate(), holder.certificate(),
        "https://ca.local/1.0/renew", BODY, NOW);

    assertThat(rejection(token, "/1.0/revoke", BODY, NOW).reason())
        .contains("is not this CA's /1.0/revoke");
  }

  @ParameterizedTest
  @CsvSource({"https://other.example/1.0/rekey", "http://ca.local/1.0/rekey",
      "https://ca.local/1.0/rekey?x=1", "not a url"})
  void tokenForAnotherCaIsRejected(String audience) throws Exception {
    Holder holder = holder(KeySpec.EC_P256);
    String token = PossessionToken.issue(holder.keys().getPrivate(), holder.certificate(),
        audience, BODY, NOW);

    assertThat(rejection(token, PATH, BODY, NOW).reason()).contains("aud");
  }

  @Test
  void expiredTokenIsRejected() throws Exception {
    Holder holder = holder(KeySpec.EC_P256);
    String token = PossessionToken.issue(holder.keys().getPrivate(), holder.certificate(), URL,
        BODY, NOW);

    assertThat(rejection(token, PATH, BODY, NOW.plus(Duration.ofMinutes(7))).reason())
        .contains("check the client's clock");
  }

  @Test
  void tokenFromTheFutureIsRejected() throws Exception {
    Holder holder = holder(KeySpec.EC_P256);
    String token = PossessionToken.issue(holder.keys().getPrivate(), holder.certificate(), URL,
        BODY, NOW.plus(Duration.ofMinutes(10)));

    assertThat(rejection(token, PATH, BODY, NOW).reason()).contains("exp");
  }

  @Test
  void longLifetimeIsRejected() throws Exception {
    Holder holder = holder(KeySpec.EC_P256);
    String token = sign(holder, JWSAlgorithm.ES256, claims()
        .expirationTime(Date.from(NOW.plus(Duration.ofDays(1)))).build(), true);

    assertThat(rejection(token, PATH, BODY, NOW).reason()).contains("is not within 5 minutes");
  }

  @Test
  void mismatchedAlgorithmIsRejected() throws Exception {
    Holder holder = holder(KeySpec.of("EC", "P-384", null));
    JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.ES256)
        .x509CertChain(List.of(Base64.encode(holder.certificate().getEncoded()))).build();
    // The algorithm is checked first, so the signature's bytes do not matter.
    String token = header.toBase64URL() + "." + Base64URL.encode(claims().build().toString())
        + "." + Base64URL.encode(new byte[64]);

    assertThat(rejection(token, PATH, BODY, NOW).reason())
        .contains("alg ES256 does not fit the key");
  }

  @Test
  void hmacWithPublicKeyIsRejected() throws Exception {
    Holder holder = holder(KeySpec.EC_P256);
    JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.HS256)
        .x509CertChain(List.of(Base64.encode(holder.certificate().getEncoded()))).build();
    SignedJWT jwt = new SignedJWT(header, claims().build());
    jwt.sign(new MACSigner(Arrays.copyOf(holder.certificate().getPublicKey().getEncoded(),
        64)));

    assertThat(rejection(jwt.serialize(), PATH, BODY, NOW).reason())
        .contains("alg HS256 does not fit the key");
  }

  @Test
  void unsignedTokenIsRejected() throws Exception {
    Holder holder = holder(KeySpec.EC_P256);
    String header = Base64URL.encode("{\"alg\":\"none\",\"x5c\":[\""
        + Base64.encode(holder.certificate().getEncoded()) + "\"]}").toString();
    String token = header + "." + Base64URL.encode(claims().build().toString()) + ".";

    assertThat(rejection(token, PATH, BODY, NOW).reason()).contains("not a signed JWT");
  }

  @Test
  void tokenWithoutCertificateIsRejected() throws Exception {
    Holder holder = holder(KeySpec.EC_P256);
    String token = sign(holder, JWSAlgorithm.ES256, claims().build(), false);

    assertThat(rejection(token, PATH, BODY, NOW).reason()).contains("no x5c header");
  }

  @Test
  void tokenWithoutBodyHashIsRejected() throws Exception {
    Holder holder = holder(KeySpec.EC_P256);
    String token = sign(holder, JWSAlgorithm.ES256, claims()
        .claim(PossessionToken.BODY_HASH_CLAIM, null).build(), true);

    assertThat(rejection(token, PATH, BODY, NOW).reason()).contains("body_sha256");
  }

  @Test
  void tokenWithoutIdIsRejected() throws Exception {
    Holder holder = holder(KeySpec.EC_P256);
    String token = sign(holder, JWSAlgorithm.ES256, claims().jwtID(null).build(), true);

    assertThat(rejection(token, PATH, BODY, NOW).reason()).contains("no jti");
  }

  @Test
  void garbageIsRejected() {
    assertThat(rejection("not.a.token", PATH, BODY, NOW).reason())
        .contains("not a signed JWT");
    assertThat(rejection("x".repeat(40_000), PATH, BODY, NOW).reason())
        .contains("more than");
  }

  /** Claims as {@link PossessionToken#issue} writes them, for changing one at a time. */
  static JWTClaimsSet.Builder claims() throws Exception {
    return new JWTClaimsSet.Builder()
        .audience(URL)
        .expirationTime(Date.from(NOW.plus(Duration.ofMinutes(5))))
        .jwtID("0123456789abcdef")
        .claim(PossessionToken.BODY_HASH_CLAIM, Base64URL.encode(
            MessageDigest.getInstance("SHA-256").digest(BODY)).toString());
  }

  static String sign(Holder holder, JWSAlgorithm algorithm, JWTClaimsSet claims,
      boolean withCertificate) throws Exception {
    JWSHeader.Builder header = new JWSHeader.Builder(algorithm)
        .type(new JOSEObjectType(PossessionToken.TYPE));
    if (withCertificate) {
      header.x509CertChain(List.of(Base64.encode(holder.certificate().getEncoded())));
    }
    SignedJWT jwt = new SignedJWT(header.build(), claims);
    jwt.sign(new ECDSASigner((ECPrivateKey) holder.keys().getPrivate()));
    return jwt.serialize();
  }
}
