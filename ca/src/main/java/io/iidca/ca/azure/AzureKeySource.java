package io.iidca.ca.azure;

import java.security.PublicKey;

/**
 * The source of a tenant's token-signing keys and OpenID issuer for {@link AzureTokenVerifier}:
 * {@link TenantKeys} over HTTPS for the CA, or {@link TenantKeys#fixed} for offline checks.
 * Implementations are thread-safe.
 */
public interface AzureKeySource {

  /**
   * Returns the tenant's issuer from its OpenID configuration.
   *
   * @throws io.iidca.ca.error.UnavailableException if it cannot be fetched
   */
  String issuer();

  /**
   * Returns the key that {@code keyId}, or else the certificate thumbprint {@code thumbprint},
   * names.
   *
   * @throws io.iidca.ca.error.IdentityRejectedException if neither names a key
   * @throws io.iidca.ca.error.UnavailableException if the keys cannot be fetched
   */
  PublicKey key(String keyId, String thumbprint);
}
