package io.iidca.ca.gcp;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * A test signer standing in for Google: an RSA key generated in memory and the claims of a
 * Compute Engine identity token in its {@code format=full} form. Not thread-safe.
 */
public final class GcpTestTokens {

  public static final String PROJECT_ID = "my-project-123";
  public static final long PROJECT_NUMBER = 123456789012L;
  public static final String ZONE = "us-central1-a";
  public static final String INSTANCE_ID = "4567890123456789012";
  public static final String INSTANCE_NAME = "web-1";
  public static final String EMAIL = "123456789012-compute@developer.gserviceaccount.com";
  public static final String SUBJECT = "104070955682298736149";

  private final RSAKey key;

  private GcpTestTokens(RSAKey key) {
    this.key = key;
  }

  /** Generates a 2048-bit key with a random kid. */
  public static GcpTestTokens generate() {
    try {
      return new GcpTestTokens(new RSAKeyGenerator(2048).keyID(UUID.randomUUID().toString())
          .keyUse(KeyUse.SIGNATURE).algorithm(JWSAlgorithm.RS256).generate());
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  public RSAKey privateKey() {
    return key;
  }

  /** Returns the public key set that verifies this signer's tokens. */
  public JWKSet publicKeys() {
    return new JWKSet(key.toPublicJWK());
  }

  /** Returns the compute_engine claim of the default instance, created one hour before iat. */
  public static Map<String, Object> computeEngine(Instant created) {
    Map<String, Object> engine = new LinkedHashMap<>();
    engine.put("instance_creation_timestamp", created.getEpochSecond());
    engine.put("instance_id", INSTANCE_ID);
    engine.put("instance_name", INSTANCE_NAME);
    engine.put("project_id", PROJECT_ID);
    engine.put("project_number", PROJECT_NUMBER);
    engine.put("zone", ZONE);
    return engine;
  }

  /** Returns the claims Google issues at {@code iat} for the default instance. */
  public static JWTClaimsSet.Builder claims(String audience, Instant iat) {
    return new JWTClaimsSet.Builder()
        .issuer("https://accounts.google.com")
        .audience(audience)
        .subject(SUBJECT)
        .claim("azp", SUBJECT)
        .claim("email", EMAIL)
        .claim("email_verified", true)
        .issueTime(Date.from(iat))
        .expirationTime(Date.from(iat.plusSeconds(3600)))
        .claim("google", Map.of("compute_engine", computeEngine(iat.minusSeconds(3600))));
  }

  /** Signs with RS256 and this key's kid. */
  public String sign(JWTClaimsSet claims) {
    return sign(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
  }

  /** Signs with this key under any RSA header, such as RS384 or another kid. */
  public String sign(JWSHeader header, JWTClaimsSet claims) {
    try {
      return sign(header, claims, new RSASSASigner(key));
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Signs with any signer, such as an HMAC keyed with the public key. */
  public static String sign(JWSHeader header, JWTClaimsSet claims, JWSSigner signer) {
    SignedJWT jwt = new SignedJWT(header, claims);
    try {
      jwt.sign(signer);
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jwt.serialize();
  }
}
