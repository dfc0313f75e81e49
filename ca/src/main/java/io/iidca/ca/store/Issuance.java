package io.iidca.ca.store;

import java.time.Instant;
import java.util.List;

/**
 * One certificate to record, with the identity that earned it.
 *
 * @param trustOnFirstUse whether to register the instance, so that it cannot enroll again
 * @param tokenId the token's jti, recorded as used until {@code tokenExpiry}
 * @param pendingTime when the instance started, as its cloud reports it; may be null
 */
public record Issuance(
    String serial,
    String provisioner,
    String instanceId,
    String account,
    String subject,
    List<String> sans,
    Instant notBefore,
    Instant notAfter,
    String keyFingerprint,
    String certificatePem,
    Instant issuedAt,
    boolean trustOnFirstUse,
    Instant pendingTime,
    String tokenId,
    Instant tokenExpiry) {

  public Issuance {
    sans = List.copyOf(sans);
  }
}
