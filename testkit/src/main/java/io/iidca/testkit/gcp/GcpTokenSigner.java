package io.iidca.testkit.gcp;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The emulator's stand-in for Google's token signing keys: RSA-2048 keys generated in memory
 * with random 40-hex-digit key ids, the form of Google's. The newest key signs; the key set
 * lists it and the key it replaced, as Google publishes two keys during a rotation.
 * Thread-safe.
 */
public final class GcpTokenSigner {

  /** The issuer of Google's ID tokens. */
  public static final String ISSUER = "https://accounts.google.com";
  /** The lifetime of Google's instance identity tokens. */
  public static final long LIFETIME_SECONDS = 3600;

  private static final SecureRandom RANDOM = new SecureRandom();
  private final List<RSAKey> keys = new ArrayList<>();

  public GcpTokenSigner() {
    rotate();
  }

  /** Generates a new signing key; the key set keeps the previous one beside it. */
  public synchronized RSAKey rotate() {
    byte[] kid = new byte[20];
    RANDOM.nextBytes(kid);
    try {
      RSAKey key = new RSAKeyGenerator(2048).keyID(HexFormat.of().formatHex(kid))
          .keyUse(KeyUse.SIGNATURE).algorithm(JWSAlgorithm.RS256).generate();
      keys.add(0, key);
      while (keys.size() > 2) {
        keys.remove(keys.size() - 1);
      }
      return key;
    } catch (JOSEException e) {
      throw new IllegalStateException("RSA key generation failed", e);
    }
  }

  /** Returns the current signing key, private part included, for forging tests. */
  public synchronized RSAKey signingKey() {
    return keys.get(0);
  }

  /** Returns the public key set, newest key first, as {@code /oauth2/v3/certs} serves it. */
  public synchronized JWKSet publicKeys() {
    List<JWK> published = new ArrayList<>();
    for (RSAKey key : keys) {
      published.add(key.toPublicJWK());
    }
    return new JWKSet(published);
  }

  /**
   * Returns the claims Google issues for the instance at {@code iat}: {@code iss}, {@code aud},
   * {@code azp}, {@code sub}, {@code email}, {@code email_verified}, {@code iat}, {@code exp}
   * one hour later, and with {@code full} the {@code google.compute_engine} claims.
   */
  public static JWTClaimsSet.Builder claims(GcpInstance instance, String audience, Instant iat,
      boolean full, boolean licenses) {
    JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
        .issuer(ISSUER)
        .audience(audience)
        .claim("azp", instance.serviceAccountId())
        .subject(instance.serviceAccountId())
        .claim("email", instance.serviceAccountEmail())
        .claim("email_verified", true)
        .issueTime(Date.from(iat))
        .expirationTime(Date.from(iat.plusSeconds(LIFETIME_SECONDS)));
    if (full) {
      Map<String, Object> engine = new LinkedHashMap<>();
      engine.put("instance_creation_timestamp", instance.creationTime().getEpochSecond());
      engine.put("instance_id", instance.instanceId());
      engine.put("instance_name", instance.instanceName());
      if (licenses) {
        engine.put("license_id", List.of());
      }
      engine.put("project_id", instance.projectId());
      engine.put("project_number", instance.projectNumber());
      engine.put("zone", instance.zone());
      claims.claim("google", Map.of("compute_engine", engine));
    }
    return claims;
  }

  /** Signs with RS256, the current key and its kid, under {@code typ JWT} as Google does. */
  public String sign(JWTClaimsSet claims) {
    RSAKey key = signingKey();
    return sign(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID())
        .type(JOSEObjectType.JWT).build(), claims);
  }

  /** Signs with the current key under any RSA header, such as RS384 or another kid. */
  public String sign(JWSHeader header, JWTClaimsSet claims) {
    SignedJWT jwt = new SignedJWT(header, claims);
    try {
      jwt.sign(new RSASSASigner(signingKey()));
    } catch (JOSEException e) {
      throw new IllegalArgumentException("cannot sign with " + header.getAlgorithm() + ": "
          + e.getMessage(), e);
    }
    return jwt.serialize();
  }
}
