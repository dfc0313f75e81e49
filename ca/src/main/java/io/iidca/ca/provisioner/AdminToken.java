package io.iidca.ca.provisioner;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.pki.CaAudience;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;

/**
 * The token of an operator on the CA host: a JWS with ES256 signed by the intermediate CA's key,
 * which only holders of the CA's password can decrypt. It authorizes revocation and
 * registration changes through the API, so those work while {@code iidca serve} holds the
 * database, and on any node of several.
 *
 * <p>Claims: {@code iss} {@value #ISSUER}, {@code aud} the CA URL with the path of the
 * operation, {@code exp} at most five minutes ahead, a random single-use {@code jti}.
 */
public final class AdminToken {

  public static final String ISSUER = "iidca-admin";
  static final Duration LIFETIME = Duration.ofMinutes(5);
  private static final Duration LEEWAY = Duration.ofSeconds(60);
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String STAGE = "admin";

  private AdminToken() {}

  /** Issues a token for the operation at {@code path}, such as {@code /1.0/revoke}. */
  public static String issue(PrivateKey intermediateKey, String caUrl, String path,
      Instant now) {
    byte[] id = new byte[16];
    RANDOM.nextBytes(id);
    JWTClaimsSet claims = new JWTClaimsSet.Builder()
        .issuer(ISSUER)
        .subject("operator")
        .audience(CaAudience.of(caUrl, path))
        .issueTime(Date.from(now))
        .notBeforeTime(Date.from(now))
        .expirationTime(Date.from(now.plus(LIFETIME)))
        .jwtID(HexFormat.of().formatHex(id))
        .build();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256)
        .type(JOSEObjectType.JWT).build(), claims);
    try {
      jwt.sign(new ECDSASigner((ECPrivateKey) intermediateKey));
    } catch (JOSEException | ClassCastException e) {
      throw new IllegalStateException("cannot sign an operator token with the intermediate"
          + " key: " + e.getMessage(), e);
    }
    return jwt.serialize();
  }

  /** The verified claims an operation needs: the token id, for single use. */
  public record Verified(String tokenId, Instant expiry) {}

  /**
   * Verifies a token for the operation at {@code path}.
   *
   * @throws IdentityRejectedException naming the failed check
   */
  public static Verified verify(String token, ECPublicKey intermediateKey,
      List<String> dnsNames, String path, Instant now) {
    SignedJWT jwt;
    JWTClaimsSet claims;
    try {
      jwt = SignedJWT.parse(token);
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw reject("operator token is not a signed JWT");
    }
    if (!JWSAlgorithm.ES256.equals(jwt.getHeader().getAlgorithm())) {
      throw reject("operator token alg " + jwt.getHeader().getAlgorithm() + " is not ES256");
    }
    try {
      if (!jwt.verify(new ECDSAVerifier(intermediateKey))) {
        throw reject("operator token is not signed by this CA's intermediate key");
      }
    } catch (JOSEException e) {
      throw reject("operator token signature cannot be verified: " + e.getMessage());
    }
    if (!ISSUER.equals(claims.getIssuer())) {
      throw reject("operator token iss " + claims.getIssuer() + " is not " + ISSUER);
    }
    if (claims.getAudience().stream()
        .noneMatch(a -> CaAudience.matches(a, dnsNames, path))) {
      throw reject("operator token aud " + claims.getAudience() + " is not this CA's " + path);
    }
    Date expiry = claims.getExpirationTime();
    if (expiry == null || expiry.toInstant().isBefore(now.minus(LEEWAY))
        || expiry.toInstant().isAfter(now.plus(LIFETIME).plus(LEEWAY))) {
      throw reject("operator token exp " + (expiry == null ? "(missing)" : expiry.toInstant())
          + " is not within " + LIFETIME.toMinutes() + " minutes of " + now);
    }
    String id = claims.getJWTID();
    if (id == null || id.isBlank() || id.length() > 128) {
      throw reject("operator token has no valid jti");
    }
    return new Verified(id, expiry.toInstant());
  }

  private static IdentityRejectedException reject(String reason) {
    return new IdentityRejectedException(STAGE, reason);
  }
}
