package io.iidca.routes.server;

import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.IidcaException;
import io.iidca.ca.error.PolicyDeniedException;
import io.iidca.ca.pki.IssuedCertificate;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.store.CertificateRecord;
import io.iidca.ca.store.Issuance;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
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
 *
 * <p>An enrollment that repeats a recent one, as a client does when it lost the response, gets
 * the certificate that the first one got: the same instance, key, subject and names within
 * {@link #REPEAT_WINDOW}, rejected by the registration or the used token id. So a lost
 * response does not lock an instance out under trust on first use.
 */
final class RecordStage implements Processor {

  private static final Logger LOG = LoggerFactory.getLogger(RecordStage.class);
  /**
   * How long after an enrollment a repeat of the same request gets the same certificate, if
   * that is still valid: longer than iidca's client retries one request.
   */
  static final Duration REPEAT_WINDOW = Duration.ofMinutes(5);

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
    Issuance issuance = new Issuance(
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
        enrollment.reenrollment);
    try {
      runtime.store().record(issuance);
    } catch (IdentityRejectedException | PolicyDeniedException rejected) {
      if (renewed != null) {
        throw rejected;
      }
      CertificateRecord earlier = runtime.store()
          .findRepeatedIssuance(issuance, now.minus(REPEAT_WINDOW))
          .orElseThrow(() -> rejected);
      respondWithEarlier(enrollment, earlier, rejected);
    }
  }

  /**
   * Puts the certificate that an earlier request got in place of the one just signed, which is
   * discarded unrecorded. The requester proved the instance's identity again and signed the
   * CSR with the key that the earlier certificate certifies, so it is that request's sender
   * or has its key.
   */
  private static void respondWithEarlier(Enrollment enrollment, CertificateRecord earlier,
      IidcaException rejected) {
    X509Certificate recorded;
    try {
      recorded = Pem.parseCertificates(
          earlier.certificatePem().getBytes(StandardCharsets.US_ASCII)).get(0);
    } catch (CertificateException | RuntimeException e) {
      LOG.error("request {}: certificate {} of instance {} in the store cannot be parsed",
          enrollment.requestId, earlier.serial(), earlier.instanceId(), e);
      throw rejected;
    }
    LOG.info("request {}: repeats the request of instance {} that got certificate {} at {};"
        + " returning that certificate instead of {}, which is discarded ({})",
        enrollment.requestId, earlier.instanceId(), earlier.serial(), earlier.issuedAt(),
        enrollment.certificate.serialNumber().toString(16), AuditLog.value(rejected.reason()));
    enrollment.certificate = IssuedCertificate.of(recorded);
    enrollment.repeated = true;
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
