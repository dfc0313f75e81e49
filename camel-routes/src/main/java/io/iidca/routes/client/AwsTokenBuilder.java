package io.iidca.routes.client;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.provisioner.Audience;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Builds the token that carries an AWS identity document to the CA: HS256 keyed with the
 * {@code /rsa2048} PKCS#7, claims {@code sub}, {@code aud} (the CA's sign URL with
 * {@code #aws/<provisioner>}), {@code exp} five minutes ahead, a {@code jti} from
 * {@link #tokenId}, {@code sans}, and {@code amazon.document} with {@code amazon.rsa2048}.
 */
public final class AwsTokenBuilder {

  static final Duration LIFETIME = Duration.ofMinutes(5);
  private static final SecureRandom RANDOM = new SecureRandom();

  private AwsTokenBuilder() {}

  public static String build(String caUrl, String provisioner, String subject,
      List<String> sans, byte[] document, byte[] rsa2048, Instant now) {
    JWTClaimsSet claims = new JWTClaimsSet.Builder()
        .issuer("ec2.amazonaws.com")
        .subject(subject)
        .audience(Audience.of(caUrl, "aws", provisioner))
        .expirationTime(Date.from(now.plus(LIFETIME)))
        .notBeforeTime(Date.from(now))
        .issueTime(Date.from(now))
        .jwtID(tokenId(now))
        .claim("sans", sans)
        .claim("amazon", Map.of(
            "document", Base64.getEncoder().encodeToString(document),
            "rsa2048", Base64.getEncoder().encodeToString(rsa2048)))
        .build();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256)
        .type(JOSEObjectType.JWT).build(), claims);
    try {
      jwt.sign(new MACSigner(rsa2048));
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot sign the token", e);
    }
    return jwt.serialize();
  }

  /**
   * Returns 32 hex digits: the time in milliseconds (48 bits), then 80 random bits. The CA
   * indexes each token id until the token expires. Ids that start with the time are added at
   * the end of that index, so a commit rewrites one of its pages rather than one per token.
   */
  static String tokenId(Instant now) {
    byte[] id = new byte[16];
    RANDOM.nextBytes(id);
    long millis = now.toEpochMilli();
    for (int i = 0; i < 6; i++) {
      id[i] = (byte) (millis >>> (40 - 8 * i));
    }
    return HexFormat.of().formatHex(id);
  }
}
