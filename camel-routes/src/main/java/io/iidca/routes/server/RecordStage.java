package io.iidca.routes.server;

import io.iidca.ca.pki.Fingerprints;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.store.Issuance;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The record stage: stores the certificate, the used token id and, under trust on first use,
 * the instance's registration in one transaction. A failure here discards the certificate, so
 * no certificate leaves the CA without its record.
 */
final class RecordStage implements Processor {

  private final CaRuntime runtime;

  RecordStage(CaRuntime runtime) {
    this.runtime = runtime;
  }

  @Override
  public void process(Exchange exchange) {
    Enrollment enrollment = exchange.getProperty(Enrollment.PROPERTY, Enrollment.class);
    var identity = enrollment.identity;
    var certificate = enrollment.certificate;
    runtime.store().record(new Issuance(
        certificate.getSerialNumber().toString(16),
        identity.provisioner(),
        identity.instanceId(),
        identity.account(),
        enrollment.template.commonName(),
        enrollment.template.sans(),
        certificate.getNotBefore().toInstant(),
        certificate.getNotAfter().toInstant(),
        Fingerprints.of(certificate.getPublicKey()),
        Pem.encode(certificate),
        runtime.clock().instant(),
        !enrollment.provisioner.disableTrustOnFirstUse(),
        identity.pendingTime(),
        identity.tokenId(),
        identity.tokenExpiry()));
  }
}
