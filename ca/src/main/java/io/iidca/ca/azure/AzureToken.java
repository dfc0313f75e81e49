package io.iidca.ca.azure;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.error.IdentityRejectedException;
import java.text.ParseException;

/**
 * A managed-identity access token as the Azure Instance Metadata Service returns it from {@code
 * /metadata/identity/oauth2/token}: a JWS (RFC 7515) in compact form, not yet verified.
 * Immutable.
 *
 * @param text the compact serialization
 * @param jwt the parsed token
 * @param claims its claims
 */
public record AzureToken(String text, SignedJWT jwt, JWTClaimsSet claims) {

  /** Maximum token length; Entra access tokens are about 1.5 to 3 KB. */
  public static final int MAX_LENGTH = 16 * 1024;

  /**
   * Parses a compact JWS without verifying it.
   *
   * @throws IdentityRejectedException if it is not a signed JWT
   */
  public static AzureToken parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IdentityRejectedException(AttestedDocumentVerifier.STAGE, "token is missing");
    }
    if (text.length() > MAX_LENGTH) {
      throw new IdentityRejectedException(AttestedDocumentVerifier.STAGE, "token of "
          + text.length() + " characters exceeds the limit of " + MAX_LENGTH);
    }
    try {
      SignedJWT jwt = SignedJWT.parse(text.strip());
      return new AzureToken(text.strip(), jwt, jwt.getJWTClaimsSet());
    } catch (ParseException e) {
      throw new IdentityRejectedException(AttestedDocumentVerifier.STAGE,
          "token is not a signed JWT: " + e.getMessage());
    }
  }
}
