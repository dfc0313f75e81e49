package io.iidca.ca.azure;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import io.iidca.ca.config.AzureOptions;
import io.iidca.ca.error.IdentityRejectedException;
import java.security.PublicKey;
import java.security.interfaces.RSAPublicKey;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Locale;

/**
 * Verifies managed-identity access tokens of one Entra tenant, as described in "Microsoft
 * identity platform access tokens" (learn.microsoft.com): RS256 only, the signature with the
 * tenant's key named by {@code kid} or {@code x5t}, {@code iss} (the OpenID configuration's
 * issuer, or the v1 issuer of the cloud that managed identities use), {@code aud} (ignoring a
 * trailing slash), {@code tid}, {@code exp}, {@code nbf} and {@code iat} with {@value
 * #LEEWAY_SECONDS} s leeway, {@code oid}, and {@code xms_mirid} parsed as a {@link ResourceId},
 * then the configured subscriptions, resource groups and object ids.
 *
 * <p>Not checked: single use (a managed-identity token is a bearer token that is valid for
 * hours and may be presented again; the attested document's nonce gives freshness), and any
 * claim not named above.
 *
 * <p>Thread-safe when its {@link AzureKeySource} is.
 */
public final class AzureTokenVerifier {

  public static final long LEEWAY_SECONDS = 60;
  private static final Duration LEEWAY = Duration.ofSeconds(LEEWAY_SECONDS);

  private final AzureOptions options;
  private final AzureKeySource keys;
  private final String tenantId;

  public AzureTokenVerifier(AzureOptions options, AzureKeySource keys) {
    this.options = options;
    this.keys = keys;
    this.tenantId = options.tenantId().toLowerCase(Locale.ROOT);
  }

  /**
   * Verifies a token as of {@code now}.
   *
   * @throws IdentityRejectedException naming the failed check
   * @throws io.iidca.ca.error.UnavailableException if the tenant's keys cannot be fetched
   */
  public VerifiedAzureToken verify(AzureToken token, Instant now) {
    verifySignature(token);
    JWTClaimsSet claims = token.claims();
    verifyIssuer(claims.getIssuer());
    verifyAudience(claims.getAudience());
    verifyTenant(string(claims, "tid"));
    verifyTimes(claims, now);
    String objectId = string(claims, "oid");
    if (objectId == null) {
      throw reject("token has no oid claim");
    }
    ResourceId resource = resource(string(claims, "xms_mirid"));
    VerifiedAzureToken verified = new VerifiedAzureToken(token, tenantId,
        objectId.toLowerCase(Locale.ROOT), resource, claims.getExpirationTime().toInstant());
    verifyRestrictions(verified);
    return verified;
  }

  private void verifySignature(AzureToken token) {
    JWSHeader header = token.jwt().getHeader();
    if (!JWSAlgorithm.RS256.equals(header.getAlgorithm())) {
      throw reject("token alg " + header.getAlgorithm() + " is not accepted, expected RS256");
    }
    String thumbprint = header.getX509CertThumbprint() == null ? null
        : header.getX509CertThumbprint().toString();
    if (header.getKeyID() == null && thumbprint == null) {
      throw reject("token header has neither kid nor x5t");
    }
    PublicKey key = keys.key(header.getKeyID(), thumbprint);
    if (!(key instanceof RSAPublicKey rsa)) {
      throw reject("token key " + header.getKeyID() + " is not an RSA key");
    }
    try {
      if (!token.jwt().verify(new RSASSAVerifier(rsa))) {
        throw reject("token signature does not verify with key " + header.getKeyID());
      }
    } catch (JOSEException e) {
      throw reject("token signature cannot be verified: " + e.getMessage());
    }
  }

  private void verifyIssuer(String issuer) {
    List<String> accepted = List.of(keys.issuer(), v1Issuer());
    if (issuer == null || !accepted.contains(issuer)) {
      throw reject("token iss " + issuer + " is not one of " + accepted);
    }
  }

  /**
   * Returns the v1 issuer of the cloud, which tokens from the managed-identity endpoint carry
   * ({@code ver} 1.0).
   */
  private String v1Issuer() {
    // NOTE: the US Government value is assumed to equal the public cloud's; the China value is
    // the one Microsoft's China cloud documentation gives.
    String host = AzureOptions.CHINA_CLOUD.equals(options.cloud()) ? "sts.chinacloudapi.cn"
        : "sts.windows.net";
    return "https://" + host + "/" + tenantId + "/";
  }

  private void verifyAudience(List<String> audiences) {
    String expected = withoutTrailingSlash(options.effectiveAudience());
    for (String audience : audiences) {
      if (withoutTrailingSlash(audience).equals(expected)) {
        return;
      }
    }
    throw reject("token aud " + audiences + " is not " + options.effectiveAudience());
  }

  private static String withoutTrailingSlash(String text) {
    return text.endsWith("/") ? text.substring(0, text.length() - 1) : text;
  }

  private void verifyTenant(String tid) {
    if (tid == null || !tid.equalsIgnoreCase(tenantId)) {
      throw reject("token tid " + tid + " is not the configured tenant " + tenantId);
    }
  }

  private static void verifyTimes(JWTClaimsSet claims, Instant now) {
    Date expiry = claims.getExpirationTime();
    if (expiry == null) {
      throw reject("token has no exp claim");
    }
    if (!expiry.toInstant().isAfter(now.minus(LEEWAY))) {
      throw reject("token expired at " + expiry.toInstant() + "; now is " + now);
    }
    Date notBefore = claims.getNotBeforeTime();
    if (notBefore != null && notBefore.toInstant().isAfter(now.plus(LEEWAY))) {
      throw reject("token nbf " + notBefore.toInstant() + " is after " + now);
    }
    Date issuedAt = claims.getIssueTime();
    if (issuedAt != null && issuedAt.toInstant().isAfter(now.plus(LEEWAY))) {
      throw reject("token iat " + issuedAt.toInstant() + " is after " + now);
    }
  }

  private static ResourceId resource(String mirid) {
    if (mirid == null) {
      throw reject("token has no xms_mirid claim, so it is not a managed-identity token");
    }
    try {
      return ResourceId.parse(mirid);
    } catch (IllegalArgumentException e) {
      throw reject("token xms_mirid: " + e.getMessage());
    }
  }

  private void verifyRestrictions(VerifiedAzureToken token) {
    ResourceId resource = token.resource();
    if (!options.subscriptionIds().isEmpty() && options.subscriptionIds().stream()
        .noneMatch(s -> s.equalsIgnoreCase(resource.subscriptionId()))) {
      throw reject("subscription " + resource.subscriptionId() + " is not in the allowed"
          + " subscriptions " + options.subscriptionIds());
    }
    if (!options.resourceGroups().isEmpty() && options.resourceGroups().stream()
        .noneMatch(g -> g.equalsIgnoreCase(resource.resourceGroup()))) {
      throw reject("resource group " + resource.resourceGroup() + " is not in the allowed"
          + " resource groups " + options.resourceGroups());
    }
    if (!options.objectIds().isEmpty() && options.objectIds().stream()
        .noneMatch(o -> o.equalsIgnoreCase(token.objectId()))) {
      throw reject("object id " + token.objectId() + " is not in the allowed object ids "
          + options.objectIds());
    }
  }

  private static String string(JWTClaimsSet claims, String name) {
    try {
      return claims.getStringClaim(name);
    } catch (ParseException e) {
      throw reject("token claim " + name + " is not a string");
    }
  }

  private static IdentityRejectedException reject(String reason) {
    return new IdentityRejectedException(AttestedDocumentVerifier.STAGE, reason);
  }
}
