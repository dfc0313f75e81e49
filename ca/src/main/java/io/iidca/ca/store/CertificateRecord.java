package io.iidca.ca.store;

import java.time.Instant;
import java.util.List;

/**
 * A recorded certificate, as the store returns it.
 *
 * @param attestedAt when a cloud document last proved the identity behind this certificate
 * @param renewedFrom the serial this certificate renewed, or null for an enrollment
 */
public record CertificateRecord(
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
    Instant attestedAt,
    String renewedFrom) {

  /** An enrollment's record: attested when issued, renewing nothing. */
  public CertificateRecord(String serial, String provisioner, String instanceId, String account,
      String subject, List<String> sans, Instant notBefore, Instant notAfter,
      String keyFingerprint, String certificatePem, Instant issuedAt) {
    this(serial, provisioner, instanceId, account, subject, sans, notBefore, notAfter,
        keyFingerprint, certificatePem, issuedAt, issuedAt, null);
  }
}
