package io.iidca.ca.store;

import io.iidca.ca.error.PolicyDeniedException;
import java.time.Instant;

/**
 * A revoked certificate.
 *
 * @param reasonCode the CRLReason of RFC 5280, 5.3.1, such as 1 for keyCompromise
 * @param revokedBy who revoked it: {@code operator} or {@code certificate holder}
 */
public record Revocation(String serial, Instant revokedAt, int reasonCode, String reason,
    String revokedBy) {

  /**
   * The CRLReason keyCompromise. After a revocation with it, the CA issues no certificate for
   * that certificate's public key again: no renewal, rekey or enrollment.
   */
  public static final int KEY_COMPROMISE = 1;

  /**
   * Returns the denial of a request that would certify this revocation's compromised key again.
   *
   * @param key what carries the key in the request, such as {@code the CSR's key}
   * @param keyFingerprint the key's SHA-256 fingerprint
   * @param remedy what the client should do instead
   */
  public PolicyDeniedException denyCompromisedKey(String stage, String key,
      String keyFingerprint, String remedy) {
    return new PolicyDeniedException(stage, key + " (SHA-256 " + keyFingerprint
        + ") was reported compromised: certificate " + serial + " with this key was revoked"
        + " for keyCompromise at " + revokedAt + ", and this CA certifies the key no more; "
        + remedy);
  }
}
