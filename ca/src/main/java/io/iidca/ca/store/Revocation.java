package io.iidca.ca.store;

import java.time.Instant;

/**
 * A revoked certificate.
 *
 * @param reasonCode the CRLReason of RFC 5280, 5.3.1, such as 1 for keyCompromise
 * @param revokedBy who revoked it: {@code operator} or {@code certificate holder}
 */
public record Revocation(String serial, Instant revokedAt, int reasonCode, String reason,
    String revokedBy) {}
