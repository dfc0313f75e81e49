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
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

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
        .type(new JOSEObjectType(PossessionToken.TYPE))
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
        .type(new JOSEObjectType(PossessionToken.TYPE))
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

  @Test
  void ed25519UnknownCritIsRejected() throws Exception {
    Holder holder = holder(KeySpec.of("OKP", "Ed25519", null));
    JWSHeader header = withUnknownCritical(JWSAlgorithm.EdDSA, holder).build();
    String input = header.toBase64URL() + "." + Base64URL.encode(claims().build().toString());
    Signature signature = Signature.getInstance("Ed25519");
    signature.initSign(holder.keys().getPrivate());
    signature.update(input.getBytes(StandardCharsets.US_ASCII));
    String token = input + "." + Base64URL.encode(signature.sign());

    // RFC 7515, section 4.1.11: a recipient must reject a JWS whose crit names a parameter
    // that it does not understand. The JCA's Ed25519 check reads no header.
    assertThat(rejection(token, PATH, BODY, NOW).reason()).contains("crit");
  }

  @Test
  void ecUnknownCritIsRejected() throws Exception {
    Holder holder = holder(KeySpec.EC_P256);
    SignedJWT jwt = new SignedJWT(withUnknownCritical(JWSAlgorithm.ES256, holder).build(),
        claims().build());
    jwt.sign(new ECDSASigner((ECPrivateKey) holder.keys().getPrivate()));

    assertThat(rejection(jwt.serialize(), PATH, BODY, NOW).reason()).contains("crit");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "JWT", "at+jwt"})
  void tokenOfOtherTypeIsRejected(String type) throws Exception {
    Holder holder = holder(KeySpec.EC_P256);
    JWSHeader.Builder header = new JWSHeader.Builder(JWSAlgorithm.ES256)
        .x509CertChain(List.of(Base64.encode(holder.certificate().getEncoded())));
    if (!type.isEmpty()) {
      header.type(new JOSEObjectType(type));
    }
    SignedJWT jwt = new SignedJWT(header.build(), claims().build());
    jwt.sign(new ECDSASigner((ECPrivateKey) holder.keys().getPrivate()));

    // A JWT that the same key signed for another protocol, with a matching aud, acts nowhere.
    assertThat(rejection(jwt.serialize(), PATH, BODY, NOW).reason()).contains("typ");
  }

  @ParameterizedTest
  @ValueSource(strings = {"secp256k1", "brainpoolP256r1", "brainpoolP384r1"})
  void uncertifiedCurveIsRejected(String curve) throws Exception {
    BouncyCastleProvider bc = new BouncyCastleProvider();
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", bc);
    generator.initialize(new ECGenParameterSpec(curve));
    KeyPair keys = generator.generateKeyPair();
    X500Name name = new X500Name("CN=app.internal");
    X509Certificate selfSigned = (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(new JcaX509v3CertificateBuilder(name,
            BigInteger.ONE, Date.from(NOW.minusSeconds(60)),
            Date.from(NOW.plus(Duration.ofHours(1))), name, keys.getPublic())
            .build(new JcaContentSignerBuilder("SHA256withECDSA").setProvider(bc)
                .build(keys.getPrivate())).getEncoded()));
    JWSAlgorithm algorithm = curve.endsWith("384r1") ? JWSAlgorithm.ES384 : JWSAlgorithm.ES256;
    JWSHeader header = new JWSHeader.Builder(algorithm)
        .type(new JOSEObjectType(PossessionToken.TYPE))
        .x509CertChain(List.of(Base64.encode(selfSigned.getEncoded()))).build();
    String token = header.toBase64URL() + "." + Base64URL.encode(claims().build().toString())
        + "." + Base64URL.encode(new byte[algorithm == JWSAlgorithm.ES384 ? 96 : 64]);

    // Any exception other than a rejection would become a 500 with a stack trace in the log.
    // The reason depends on the curve: nimbus names ES256K for secp256k1.
    assertThat(rejection(token, PATH, BODY, NOW).reason()).isNotBlank();
  }

  /** A header whose crit names an extension parameter that iidca does not implement. */
  static JWSHeader.Builder withUnknownCritical(JWSAlgorithm algorithm, Holder holder)
      throws Exception {
    return new JWSHeader.Builder(algorithm)
        .type(new JOSEObjectType(PossessionToken.TYPE))
        .x509CertChain(List.of(Base64.encode(holder.certificate().getEncoded())))
        .criticalParams(Set.of("x-must-understand"))
        .customParam("x-must-understand", "only-for-one-host");
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
