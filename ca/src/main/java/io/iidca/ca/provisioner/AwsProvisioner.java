package io.iidca.ca.provisioner;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.MACVerifier;
import io.iidca.ca.aws.AwsCertificates;
import io.iidca.ca.aws.AwsDocumentVerifier;
import io.iidca.ca.aws.AwsIdentityDocument;
import io.iidca.ca.config.Durations;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.pki.Fingerprints;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;

/**
 * Verifies AWS tokens for one provisioner. In order: the AWS signature over the identity
 * document (against AWS's certificate for the document's region, as of now), the token's HS256
 * MAC, issuer, audience, expiry, the region, the account, and the instance age. The token id's
 * single use is enforced later, when the certificate is recorded.
 *
 * <p>Thread-safe and immutable.
 */
public final class AwsProvisioner {

  /** The issuer step's client writes; iidca's client writes the same. */
  public static final String ISSUER = "ec2.amazonaws.com";
  /** Clock skew tolerated on exp, nbf and iat. */
  public static final Duration LEEWAY = Duration.ofSeconds(60);
  /** How far in the future a token may expire: short, because AWS documents never expire. */
  public static final Duration MAX_TOKEN_LIFETIME = Duration.ofMinutes(5);
  /** Maximum jti length, because the store's token id column has 255 characters. */
  public static final int MAX_TOKEN_ID_LENGTH = 255;

  private final ProvisionerConfig config;
  private final AwsDocumentVerifier documentVerifier;
  private final List<String> dnsNames;

  public AwsProvisioner(ProvisionerConfig config, AwsDocumentVerifier documentVerifier,
      List<String> dnsNames) {
    this.config = config;
    this.documentVerifier = documentVerifier;
    this.dnsNames = List.copyOf(dnsNames);
  }

  public ProvisionerConfig config() {
    return config;
  }

  /**
   * Verifies the token as of {@code now}.
   *
   * @throws IdentityRejectedException naming the failed check (for the audit log only)
   */
  public VerifiedIdentity verify(AwsToken token, Instant now) {
    AwsIdentityDocument document = documentVerifier.verify(token.document(), token.form(),
        token.signature(), now);
    verifyMac(token);
    verifyClaims(token, now);
    verifyRegion(document);
    verifyAccount(document);
    verifyInstanceAge(document, now);
    return new VerifiedIdentity(ProvisionerConfig.TYPE_AWS, config.name(),
        document.instanceId(), document.accountId(), document.region(),
        document.pendingTime(), vouchedNames(document),
        token.claims().getSubject(), token.sans(), tokenId(token, document),
        token.claims().getExpirationTime().toInstant());
  }

  /**
   * Returns the id under which the token is recorded as used. With trust on first use it is the
   * jti, then {@code @} and the instance id. The client chooses the jti, and step's client
   * derives it from the provisioner and the instance id. By the jti alone, any instance of the
   * account could use up the jti of another before that one enrolls. A replayed token carries
   * the same document, so it gets the same id. The jti comes first because iidca's client
   * starts it with the time, so new ids go to the end of the store's index. A longer jti than
   * fits beside the instance id is hashed with it. Without trust on first use, the id is the
   * token's SHA-256, as step-ca does, because step's client would otherwise be rejected on its
   * second enrollment.
   */
  private String tokenId(AwsToken token, AwsIdentityDocument document) {
    if (!config.disableTrustOnFirstUse()) {
      String jti = token.claims().getJWTID();
      // The instance id is i- and 8 or 17 hex digits, so it contains no @.
      String id = jti + "@" + document.instanceId();
      if (id.length() <= MAX_TOKEN_ID_LENGTH) {
        return id;
      }
      return "jti-sha256:" + Fingerprints.sha256Hex((document.instanceId() + "\n" + jti)
          .getBytes(StandardCharsets.UTF_8));
    }
    return "sha256:" + Fingerprints.sha256Hex(token.jwt().serialize()
        .getBytes(StandardCharsets.US_ASCII));
  }

  private void verifyMac(AwsToken token) {
    if (!JWSAlgorithm.HS256.equals(token.jwt().getHeader().getAlgorithm())) {
      throw reject("token alg " + token.jwt().getHeader().getAlgorithm()
          + " is not accepted: AWS tokens use HS256");
    }
    try {
      if (!token.jwt().verify(new MACVerifier(token.signature()))) {
        throw reject("token MAC does not verify with the key of amazon." + token.form().path());
      }
    } catch (JOSEException e) {
      throw reject("token MAC cannot be verified: " + e.getMessage());
    }
  }

  private void verifyClaims(AwsToken token, Instant now) {
    var claims = token.claims();
    if (claims.getIssuer() != null && !claims.getIssuer().equals(ISSUER)) {
      throw reject("token iss " + claims.getIssuer() + " is not " + ISSUER);
    }
    if (claims.getSubject() == null || claims.getSubject().isBlank()) {
      throw reject("token has no sub: it names the certificate's subject");
    }
    verifyAudience(claims.getAudience());
    Date expiry = claims.getExpirationTime();
    if (expiry == null) {
      throw reject("token has no exp");
    }
    if (expiry.toInstant().isBefore(now.minus(LEEWAY))) {
      throw reject("token expired at " + expiry.toInstant() + "; now is " + now);
    }
    if (expiry.toInstant().isAfter(now.plus(MAX_TOKEN_LIFETIME).plus(LEEWAY))) {
      throw reject("token exp " + expiry.toInstant() + " is more than "
          + Durations.format(MAX_TOKEN_LIFETIME) + " ahead of " + now);
    }
    for (Date notEarlier : new Date[] {claims.getNotBeforeTime(), claims.getIssueTime()}) {
      if (notEarlier != null && notEarlier.toInstant().isAfter(now.plus(LEEWAY))) {
        throw reject("token nbf or iat " + notEarlier.toInstant() + " is in the future");
      }
    }
    if (claims.getJWTID() == null || claims.getJWTID().isBlank()) {
      throw reject("token has no jti");
    }
    if (claims.getJWTID().length() > MAX_TOKEN_ID_LENGTH) {
      throw reject("token jti of " + claims.getJWTID().length() + " characters exceeds the"
          + " limit of " + MAX_TOKEN_ID_LENGTH + "; send a shorter jti, such as 32 hex digits");
    }
  }

  private void verifyAudience(List<String> audiences) {
    for (String audience : audiences) {
      boolean matches = Audience.parse(audience)
          .filter(a -> a.type().equals("aws") && a.provisionerName().equals(config.name()))
          .filter(a -> a.isSignUrlOf(dnsNames))
          .isPresent();
      if (matches) {
        return;
      }
    }
    throw reject("token aud " + audiences + " does not name this CA's sign URL on "
        + dnsNames + " with #aws/" + config.name());
  }

  private static void verifyRegion(AwsIdentityDocument document) {
    if (!AwsCertificates.published().isPublishedRegion(document.region())) {
      throw reject("region " + document.region() + " is not a region for which AWS published"
          + " instance identity certificates");
    }
  }

  /**
   * The names AWS vouches for: the private IP and its IP-based DNS name. An IPv6-only instance
   * has no IP-based name, so only its address is vouched for.
   */
  private static List<String> vouchedNames(AwsIdentityDocument document) {
    if (document.privateIp().contains(":")) {
      return List.of(document.privateIp());
    }
    return List.of(document.privateDnsName(), document.privateIp());
  }

  private void verifyAccount(AwsIdentityDocument document) {
    if (!config.awsAccounts().contains(document.accountId())) {
      throw reject("accountId " + document.accountId() + " is not in the allowed accounts "
          + config.awsAccounts());
    }
  }

  private void verifyInstanceAge(AwsIdentityDocument document, Instant now) {
    Duration maxAge = config.instanceAge();
    if (maxAge == null) {
      return;
    }
    Duration age = Duration.between(document.pendingTime(), now);
    if (age.compareTo(maxAge) > 0) {
      throw reject("instance " + document.instanceId() + " started at "
          + document.pendingTime() + ", " + Durations.format(age.withNanos(0))
          + " ago, which exceeds the instance age limit " + Durations.format(maxAge));
    }
  }

  private static IdentityRejectedException reject(String reason) {
    return new IdentityRejectedException(AwsToken.STAGE, reason);
  }
}
