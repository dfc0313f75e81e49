package io.iidca.ca.pki;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.error.IdentityRejectedException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * Proof that a client has the private key of one of this CA's certificates, for a request that does
 * not carry the certificate in mutual TLS: a JWS (RFC 7515) signed with the certificate's key
 * and sent as {@code Authorization: Bearer}. A TLS terminator between client and CA leaves a
 * request without the client's certificate, and so does a TLS engine that does not offer the
 * certificate's signature algorithm in its certificate request.
 *
 * <p>Header: {@code alg} fits the key (ES256, ES384 or ES512 for P-256, P-384 or P-521, RS256
 * or PS256 for RSA, EdDSA for Ed25519 as RFC 8037 defines it), {@code typ} is
 * {@value #TYPE}, {@code x5c} has the certificate first (RFC 7515, section 4.1.6), and there
 * is no {@code crit}, because this class processes no extension parameter (RFC 7515, section
 * 4.1.11, makes a token that names one it does not understand invalid). Claims: {@code aud} the CA URL with the path
 * of the request, {@code exp} at most five minutes ahead, a random single-use {@code jti},
 * and {@value #BODY_HASH_CLAIM}, the base64url SHA-256 of the request's body, so that a token
 * is good for one request only: a rekey's CSR cannot be swapped for another.
 *
 * <p>This class checks the token alone. Whether the certificate is this CA's, recorded and
 * not revoked is the caller's check, as it is for a certificate presented in mutual TLS.
 */
public final class PossessionToken {

  public static final String TYPE = "iidca-pop+jwt";
  public static final String BODY_HASH_CLAIM = "body_sha256";
  static final Duration LIFETIME = Duration.ofMinutes(5);
  private static final Duration LEEWAY = Duration.ofSeconds(60);
  /** The maximum length of a token, in characters; its x5c carries the whole certificate. */
  public static final int MAX_TOKEN_CHARS = 32 * 1024;
  private static final Set<JWSAlgorithm> RSA_ALGORITHMS =
      Set.of(JWSAlgorithm.RS256, JWSAlgorithm.PS256);
  private static final SecureRandom RANDOM = new SecureRandom();

  private PossessionToken() {}

  /** The result of a verified token: the certificate, and its id and expiry for single use. */
  public record Verified(X509Certificate certificate, String tokenId, Instant expiry) {}

  /**
   * Returns a token for one request: {@code body} sent to {@code url} (the CA URL with the
   * request's path), signed with {@code key}, the private key of {@code certificate}.
   */
  public static String issue(PrivateKey key, X509Certificate certificate, String url,
      byte[] body, Instant now) throws GeneralSecurityException {
    byte[] id = new byte[16];
    RANDOM.nextBytes(id);
    JWTClaimsSet claims = new JWTClaimsSet.Builder()
        .audience(url)
        .issueTime(Date.from(now))
        .notBeforeTime(Date.from(now))
        .expirationTime(Date.from(now.plus(LIFETIME)))
        .jwtID(HexFormat.of().formatHex(id))
        .claim(BODY_HASH_CLAIM, bodyHash(body).toString())
        .build();
    PublicKey publicKey = certificate.getPublicKey();
    JWSHeader header = new JWSHeader.Builder(algorithmFor(publicKey))
        .type(new JOSEObjectType(TYPE))
        .x509CertChain(List.of(Base64.encode(certificate.getEncoded())))
        .build();
    if (isEd25519(publicKey)) {
      Base64URL encodedHeader = header.toBase64URL();
      Base64URL encodedClaims = Base64URL.encode(claims.toString());
      Signature signature = Signature.getInstance("Ed25519");
      signature.initSign(key);
      signature.update(signingInput(encodedHeader, encodedClaims));
      return encodedHeader + "." + encodedClaims + "."
          + Base64URL.encode(signature.sign());
    }
    SignedJWT jwt = new SignedJWT(header, claims);
    try {
      jwt.sign(signerFor(key));
    } catch (JOSEException e) {
      throw new GeneralSecurityException("cannot sign a possession token with the key of"
          + " certificate " + certificate.getSerialNumber().toString(16) + ": "
          + e.getMessage(), e);
    }
    return jwt.serialize();
  }

  /**
   * Returns the certificate that a token names in {@code x5c}, without verifying the token.
   *
   * @throws IdentityRejectedException if the token cannot be parsed or names no certificate
   */
  public static X509Certificate namedCertificate(String token, String stage) {
    return certificate(parse(token, stage).getHeader(), stage);
  }

  /**
   * Verifies a token for a request to {@code path} with {@code body}, at one of the CA's
   * {@code dnsNames}.
   *
   * @throws IdentityRejectedException naming the failed check
   */
  public static Verified verify(String token, List<String> dnsNames, String path, byte[] body,
      Instant now, String stage) {
    SignedJWT jwt = parse(token, stage);
    JWTClaimsSet claims;
    try {
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw reject(stage, "possession token is not a signed JWT: " + e.getMessage());
    }
    checkHeader(jwt.getHeader(), stage);
    X509Certificate certificate = certificate(jwt.getHeader(), stage);
    verifySignature(jwt, certificate, stage);
    if (claims.getAudience().stream().noneMatch(a -> CaAudience.matches(a, dnsNames, path))) {
      throw reject(stage, "possession token aud " + claims.getAudience() + " is not this CA's "
          + path);
    }
    Date expiry = claims.getExpirationTime();
    if (expiry == null || expiry.toInstant().isBefore(now.minus(LEEWAY))
        || expiry.toInstant().isAfter(now.plus(LIFETIME).plus(LEEWAY))) {
      throw reject(stage, "possession token exp " + (expiry == null ? "(missing)"
          : expiry.toInstant()) + " is not within " + LIFETIME.toMinutes() + " minutes of "
          + now + "; check the client's clock");
    }
    Date notBefore = claims.getNotBeforeTime();
    if (notBefore != null && notBefore.toInstant().isAfter(now.plus(LEEWAY))) {
      throw reject(stage, "possession token nbf " + notBefore.toInstant() + " is after "
          + now + "; check the client's clock");
    }
    Object hash = claims.getClaim(BODY_HASH_CLAIM);
    if (!(hash instanceof String text) || !MessageDigest.isEqual(
        text.getBytes(StandardCharsets.US_ASCII),
        bodyHash(body).toString().getBytes(StandardCharsets.US_ASCII))) {
      throw reject(stage, "possession token " + BODY_HASH_CLAIM + " does not match the"
          + " request's body; sign a new token for each request");
    }
    String id = claims.getJWTID();
    if (id == null || id.isBlank() || id.length() > 128) {
      throw reject(stage, "possession token has no jti of 1 to 128 characters");
    }
    return new Verified(certificate, id, expiry.toInstant());
  }

  private static SignedJWT parse(String token, String stage) {
    if (token.length() > MAX_TOKEN_CHARS) {
      throw reject(stage, "possession token has " + token.length() + " characters, more than "
          + MAX_TOKEN_CHARS);
    }
    try {
      return SignedJWT.parse(token);
    } catch (ParseException e) {
      throw reject(stage, "possession token is not a signed JWT: " + e.getMessage());
    }
  }

  /**
   * Checks {@code typ} and {@code crit} on every path: nimbus's verifiers check {@code crit},
   * and the Ed25519 path verifies with the JCA, which reads no header.
   */
  private static void checkHeader(JWSHeader header, String stage) {
    if (header.getCriticalParams() != null && !header.getCriticalParams().isEmpty()) {
      throw reject(stage, "possession token header crit " + header.getCriticalParams()
          + " names parameters that the CA does not process; send no crit");
    }
    JOSEObjectType type = header.getType();
    if (type == null || !TYPE.equals(type.getType())) {
      throw reject(stage, "possession token typ " + (type == null ? "(missing)" : type)
          + " is not " + TYPE);
    }
  }

  private static X509Certificate certificate(JWSHeader header, String stage) {
    List<Base64> chain = header.getX509CertChain();
    if (chain == null || chain.isEmpty()) {
      throw reject(stage, "possession token has no x5c header with the certificate");
    }
    try {
      return (X509Certificate) CertificateFactory.getInstance("X.509")
          .generateCertificate(new ByteArrayInputStream(chain.get(0).decode()));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw reject(stage, "possession token's first x5c entry is not an X.509 certificate");
    }
  }

  private static void verifySignature(SignedJWT jwt, X509Certificate certificate,
      String stage) {
    PublicKey key = certificate.getPublicKey();
    JWSAlgorithm algorithm = jwt.getHeader().getAlgorithm();
    String serial = certificate.getSerialNumber().toString(16);
    boolean valid;
    try {
      if (isEd25519(key)) {
        requireAlgorithm(algorithm, Set.of(JWSAlgorithm.EdDSA), serial, stage);
        Signature signature = Signature.getInstance("Ed25519");
        signature.initVerify(key);
        signature.update(jwt.getSigningInput());
        valid = signature.verify(jwt.getSignature().decode());
      } else if (key instanceof ECPublicKey ec && ecAlgorithm(ec) != null) {
        requireAlgorithm(algorithm, Set.of(ecAlgorithm(ec)), serial, stage);
        valid = jwt.verify(new ECDSAVerifier(ec));
      } else if (key instanceof RSAPublicKey rsa) {
        requireAlgorithm(algorithm, RSA_ALGORITHMS, serial, stage);
        valid = jwt.verify(new RSASSAVerifier(rsa));
      } else {
        throw reject(stage, "certificate " + serial + " has a key (" + key.getAlgorithm()
            + ") that possession tokens do not support; present it over mutual TLS");
      }
    } catch (GeneralSecurityException | JOSEException e) {
      throw reject(stage, "possession token signature cannot be verified: " + e.getMessage());
    }
    if (!valid) {
      throw reject(stage, "possession token is not signed by the key of certificate " + serial);
    }
  }

  private static void requireAlgorithm(JWSAlgorithm algorithm, Set<JWSAlgorithm> allowed,
      String serial, String stage) {
    if (!allowed.contains(algorithm)) {
      throw reject(stage, "possession token alg " + algorithm + " does not fit the key of"
          + " certificate " + serial + "; use " + allowed);
    }
  }

  private static JWSAlgorithm algorithmFor(PublicKey key) throws GeneralSecurityException {
    if (isEd25519(key)) {
      return JWSAlgorithm.EdDSA;
    }
    if (key instanceof ECPublicKey ec && ecAlgorithm(ec) != null) {
      return ecAlgorithm(ec);
    }
    if (key instanceof RSAPublicKey) {
      return JWSAlgorithm.RS256;
    }
    throw new GeneralSecurityException("possession tokens do not support "
        + key.getAlgorithm() + " keys");
  }

  private static JWSSigner signerFor(PrivateKey key) throws GeneralSecurityException {
    try {
      return key instanceof ECPrivateKey ec ? new ECDSASigner(ec) : new RSASSASigner(key);
    } catch (JOSEException e) {
      throw new GeneralSecurityException(e.getMessage(), e);
    }
  }

  /**
   * Returns the JWS algorithm of an EC key's curve, by its field size (RFC 7518, section 3.4),
   * or null for a field size other than those of P-256, P-384 and P-521. Other curves of those
   * sizes, such as secp256k1 or brainpoolP256r1, map too, and verification then rejects
   * the token (PossessionTokenTest covers them). The CA certifies none of them.
   */
  private static JWSAlgorithm ecAlgorithm(ECKey key) {
    return switch (key.getParams().getCurve().getField().getFieldSize()) {
      case 256 -> JWSAlgorithm.ES256;
      case 384 -> JWSAlgorithm.ES384;
      case 521 -> JWSAlgorithm.ES512;
      default -> null;
    };
  }

  private static boolean isEd25519(PublicKey key) {
    return "Ed25519".equals(key.getAlgorithm()) || "EdDSA".equals(key.getAlgorithm());
  }

  private static byte[] signingInput(Base64URL header, Base64URL claims) {
    return (header + "." + claims).getBytes(StandardCharsets.US_ASCII);
  }

  private static Base64URL bodyHash(byte[] body) {
    try {
      return Base64URL.encode(MessageDigest.getInstance("SHA-256")
          .digest(body == null ? new byte[0] : body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is missing from the JDK", e);
    }
  }

  private static IdentityRejectedException reject(String stage, String reason) {
    return new IdentityRejectedException(stage, reason);
  }
}
