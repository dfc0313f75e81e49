package io.iidca.ca.azure;

import java.time.Instant;

/**
 * Single-use nonces that the CA issues for Azure attested documents, shared by every CA node on
 * one database. The Azure Instance Metadata Service copies the nonce that the client passes to
 * {@code /metadata/attested/document} into the signed document, so a document that carries a
 * nonce issued by this CA was signed after the nonce was issued.
 *
 * <p>Implementations are thread-safe, and {@link #consumeNonce} is atomic across nodes.
 */
public interface NonceStore {

  /**
   * Issues a fresh random nonce for a provisioner, valid until {@code expiresAt}.
   *
   * @return the nonce: 10 decimal digits
   */
  String issueNonce(String provisioner, Instant expiresAt);

  /**
   * Deletes a nonce if it was issued for the provisioner and has not expired at {@code now}.
   *
   * @return true for exactly one caller per issued nonce, false when it is unknown, used or
   *     expired
   */
  boolean consumeNonce(String provisioner, String nonce, Instant now);

  /** Deletes nonces that expired before {@code now}; returns how many. */
  int purgeExpiredNonces(Instant now);
}
