package io.iidca.routes.server;

import io.iidca.ca.error.IidcaException;
import io.iidca.ca.store.CertificateRecord;
import io.iidca.ca.store.Issuance;
import java.time.Instant;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The record stage: stores the certificate, the used token id and, under trust on first use,
 * the instance's registration in one transaction. A renewal stores the certificate with the
 * serial it renews, after checking again that the renewed one is not revoked and that no
 * certificate with the new one's key was revoked for keyCompromise. A failure here discards
 * the certificate, so no certificate leaves the CA without its record.
 */
final class RecordStage implements Processor {

  private static final Logger LOG = LoggerFactory.getLogger(RecordStage.class);

  private final CaRuntime runtime;

  RecordStage(CaRuntime runtime) {
    this.runtime = runtime;
  }

  @Override
  public void process(Exchange exchange) {
    Enrollment enrollment = exchange.getProperty(Enrollment.PROPERTY, Enrollment.class);
    var identity = enrollment.identity;
    var certificate = enrollment.certificate;
    var renewed = enrollment.renewedFrom;
    Instant now = runtime.clock().instant();
    if (renewed == null) {
      enrollment.reenrollment = reenrollment(exchange, enrollment, now);
    }
    runtime.store().record(new Issuance(
        certificate.serialNumber().toString(16),
        identity.provisioner(),
        identity.instanceId(),
        identity.account(),
        enrollment.template.commonName(),
        enrollment.template.sans(),
        certificate.notBefore(),
        certificate.notAfter(),
        certificate.keyFingerprint(),
        certificate.pem(),
        now,
        renewed == null && !enrollment.provisioner.disableTrustOnFirstUse(),
        identity.pendingTime(),
        identity.tokenId(),
        identity.tokenExpiry(),
        renewed == null ? now : renewed.attestedAt(),
        renewed == null ? null : renewed.serial(),
        enrollment.reenrollment));
  }

  /**
   * Decides whether a registered instance may enroll again: when it presents its current,
   * unexpired and unrevoked certificate over mutual TLS or in a possession token, or when its
   * provisioner allows one enrollment per start of the instance.
   */
  private Issuance.Reenrollment reenrollment(Exchange exchange, Enrollment enrollment,
      Instant now) {
    try {
      CertificateRecord current = PeerCertificates.authenticateIfPresented(exchange, runtime,
          "record", enrollment.requestBody);
      boolean sameInstance = current != null
          && current.provisioner().equals(enrollment.identity.provisioner())
          && current.instanceId().equals(enrollment.identity.instanceId());
      if (sameInstance && now.isBefore(current.notAfter())) {
        return Issuance.Reenrollment.CURRENT_CERTIFICATE;
      }
    } catch (IidcaException notUsable) {
      // A certificate or token that is foreign, unknown, forged or revoked authorizes
      // nothing, so the request goes on as one without a certificate.
      LOG.info("request {}: presented certificate ignored for instance {}: {}",
          enrollment.requestId, enrollment.identity.instanceId(),
          AuditLog.value(notUsable.reason()));
    }
    return enrollment.provisioner.allowRestartedInstances()
        ? Issuance.Reenrollment.RESTARTED_INSTANCE : Issuance.Reenrollment.NONE;
  }
}
