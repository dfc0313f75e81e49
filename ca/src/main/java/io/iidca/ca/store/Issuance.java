package io.iidca.ca.store;

import java.time.Instant;
import java.util.List;

/**
 * One certificate to record, with the identity that earned it.
 *
 * @param trustOnFirstUse whether to register the instance, so that it cannot enroll again
 * @param tokenId the token's jti, recorded as used until {@code tokenExpiry}; null for renewals
 * @param pendingTime when the instance started, as its cloud reports it; may be null
 * @param attestedAt when a cloud document last proved this identity; a renewal copies it
 * @param renewedFrom the serial this certificate renews, or null
 * @param reenrollment when an already registered instance may enroll again
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
    Instant tokenExpiry,
    Instant attestedAt,
    String renewedFrom,
    Reenrollment reenrollment) {

  /** When trust on first use lets a registered instance enroll once more. */
  public enum Reenrollment {
    /** Never: a second enrollment is denied. */
    NONE,
    /** When the instance's start time is newer than the registered one, once per start. */
    RESTARTED_INSTANCE,
    /** The request carried the instance's current, valid certificate over mutual TLS. */
    CURRENT_CERTIFICATE
  }

  public Issuance {
    sans = List.copyOf(sans);
    if (attestedAt == null) {
      attestedAt = issuedAt;
    }
    if (reenrollment == null) {
      reenrollment = Reenrollment.NONE;
    }
  }

  /** A first enrollment, attested now, that renews nothing. */
  public Issuance(String serial, String provisioner, String instanceId, String account,
      String subject, List<String> sans, Instant notBefore, Instant notAfter,
      String keyFingerprint, String certificatePem, Instant issuedAt, boolean trustOnFirstUse,
      Instant pendingTime, String tokenId, Instant tokenExpiry) {
    this(serial, provisioner, instanceId, account, subject, sans, notBefore, notAfter,
        keyFingerprint, certificatePem, issuedAt, trustOnFirstUse, pendingTime, tokenId,
        tokenExpiry, issuedAt, null, Reenrollment.NONE);
  }
}
