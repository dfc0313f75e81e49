package io.iidca.ca.gcp;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.MalformedRequestException;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Verifies a Compute Engine instance identity token: a JWT (RFC 7519) that Google signs with
 * RS256 (RFC 7518, 3.3), as "Verifying the identity of instances" in the Compute Engine
 * documentation describes it. In order:
 *
 * <ol>
 *   <li>the header's {@code alg} is exactly {@code RS256}: unsigned ({@code none}), HMAC (such as
 *       HS256 keyed with Google's public key) and every other algorithm are rejected;
 *   <li>the {@code kid} names one of Google's keys, after at most one refresh of the keys;
 *   <li>the signature verifies with that key;
 *   <li>{@code iss} is {@code https://accounts.google.com} or {@code accounts.google.com};
 *   <li>{@code aud} is exactly one value and the {@link AudienceRule} accepts it;
 *   <li>{@code exp} has not passed and {@code iat} is not in the future, each with the leeway;
 *       {@code iat} is at most one hour, Google's token lifetime, plus the leeway before
 *       {@code exp}; a present {@code nbf} is not in the future;
 *   <li>{@code sub} and every {@code google.compute_engine} claim are present and well formed.
 * </ol>
 *
 * <p>Not checked here: which projects, service accounts and zones may enroll, the instance age,
 * and single use of the token; {@code io.iidca.ca.provisioner.GcpProvisioner} checks the first
 * ones and the record stage enforces single use. Thread-safe when the key source is.
 */
public final class GcpTokenVerifier {

  /** The issuers of Google's ID tokens; Google documents both spellings. */
  public static final Set<String> ISSUERS =
      Set.of("https://accounts.google.com", "accounts.google.com");
  /** The lifetime of Google's instance identity tokens. */
  public static final Duration TOKEN_LIFETIME = Duration.ofHours(1);
  /** The maximum token length; Google's tokens have about 1,100 characters. */
  public static final int MAX_TOKEN_LENGTH = 16 * 1024;

  private final GoogleKeySource keys;
  private final Duration leeway;
  private final String stage;

  /**
   * Creates a verifier.
   *
   * @param leeway clock skew tolerated on {@code exp}, {@code iat} and {@code nbf}
   * @param stage the stage or command that rejections name, such as {@code verify-gcp}
   */
  public GcpTokenVerifier(GoogleKeySource keys, Duration leeway, String stage) {
    this.keys = Objects.requireNonNull(keys, "keys");
    this.leeway = Objects.requireNonNull(leeway, "leeway");
    this.stage = Objects.requireNonNull(stage, "stage");
  }

  /** Decides which {@code aud} values a caller accepts, and describes them for messages. */
  public interface AudienceRule {

    boolean accepts(String audience);

    /** Returns the expected audience in words, such as a URL. */
    String expected();

    /** Returns a rule that accepts exactly this audience. */
    static AudienceRule exactly(String audience) {
      return new AudienceRule() {
        @Override
        public boolean accepts(String candidate) {
          return audience.equals(candidate);
        }

        @Override
        public String expected() {
          return audience;
        }
      };
    }
  }

  /**
   * Verifies the token as of {@code now}.
   *
   * @throws MalformedRequestException when the text is not a JWT at all
   * @throws IdentityRejectedException naming the failed check and the values seen (for the
   *     audit log only)
   * @throws io.iidca.ca.error.UnavailableException when Google's keys cannot be fetched
   */
  public GcpIdentityToken verify(String token, AudienceRule audience, Instant now) {
    SignedJWT jwt = parse(token);
    verifySignature(jwt);
    JWTClaimsSet claims;
    try {
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw reject("token claims are not a JSON object: " + e.getMessage());
    }
    verifyIssuer(claims);
    verifyAudience(claims.getAudience(), audience);
    verifyTimes(claims, now);
    return GcpIdentityToken.fromClaims(token, claims, stage);
  }

  private SignedJWT parse(String token) {
    if (token == null || token.isBlank()) {
      throw new MalformedRequestException(stage, "the token is empty");
    }
    if (token.length() > MAX_TOKEN_LENGTH) {
      throw new MalformedRequestException(stage, "token of " + token.length()
          + " characters exceeds the limit of " + MAX_TOKEN_LENGTH);
    }
    JWT jwt;
    try {
      jwt = JWTParser.parse(token.strip());
    } catch (ParseException e) {
      throw new MalformedRequestException(stage, "token is not a JWT: " + e.getMessage());
    }
    if (!(jwt instanceof SignedJWT signed)) {
      throw reject("token alg " + jwt.getHeader().getAlgorithm() + " is not accepted: Google"
          + " signs identity tokens with RS256");
    }
    return signed;
  }

  private void verifySignature(SignedJWT jwt) {
    JWSHeader header = jwt.getHeader();
    if (!JWSAlgorithm.RS256.equals(header.getAlgorithm())) {
      throw reject("token alg " + header.getAlgorithm() + " is not accepted: Google signs"
          + " identity tokens with RS256");
    }
    if (header.getKeyID() == null) {
      throw reject("token header has no kid");
    }
    RSAKey key = keys.find(header.getKeyID());
    if (key == null) {
      throw reject("token kid " + header.getKeyID() + " is not among Google's signing keys"
          + " from " + keys.origin());
    }
    try {
      if (!jwt.verify(new RSASSAVerifier(key))) {
        throw reject("token signature does not verify with Google's key " + key.getKeyID());
      }
    } catch (JOSEException e) {
      throw reject("token signature cannot be verified with Google's key " + key.getKeyID()
          + ": " + e.getMessage());
    }
  }

  private void verifyIssuer(JWTClaimsSet claims) {
    if (!ISSUERS.contains(claims.getIssuer())) {
      throw reject("token iss " + claims.getIssuer() + " is not one of " + ISSUERS);
    }
  }

  private void verifyAudience(List<String> audiences, AudienceRule rule) {
    if (audiences.size() != 1) {
      throw reject("token has " + audiences.size() + " aud values " + audiences
          + ", expected exactly one");
    }
    if (!rule.accepts(audiences.get(0))) {
      throw reject("token aud " + audiences.get(0) + " is not " + rule.expected());
    }
  }

  private void verifyTimes(JWTClaimsSet claims, Instant now) {
    Date expiry = claims.getExpirationTime();
    Date issued = claims.getIssueTime();
    if (expiry == null || issued == null) {
      throw reject("token lacks " + (expiry == null ? "exp" : "iat"));
    }
    Instant exp = expiry.toInstant();
    Instant iat = issued.toInstant();
    if (now.isAfter(exp.plus(leeway))) {
      throw reject("token expired at " + exp + "; now is " + now);
    }
    if (iat.isAfter(now.plus(leeway))) {
      throw reject("token iat " + iat + " is in the future; now is " + now);
    }
    if (iat.isBefore(exp.minus(TOKEN_LIFETIME).minus(leeway))) {
      throw reject("token iat " + iat + " is more than " + TOKEN_LIFETIME.toMinutes()
          + " minutes before its exp " + exp + ", longer than Google's token lifetime");
    }
    Date notBefore = claims.getNotBeforeTime();
    if (notBefore != null && notBefore.toInstant().isAfter(now.plus(leeway))) {
      throw reject("token nbf " + notBefore.toInstant() + " is in the future; now is " + now);
    }
  }

  private IdentityRejectedException reject(String reason) {
    return new IdentityRejectedException(stage, reason);
  }
}
