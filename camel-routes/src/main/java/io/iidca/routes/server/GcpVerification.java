package io.iidca.routes.server;

import io.iidca.ca.error.InternalException;
import java.util.Optional;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The verify-gcp stage: full verification of the raw token, bound to the request's public key,
 * by the provisioner that identify selected.
 */
final class GcpVerification implements Processor {

  private final CaRuntime runtime;

  GcpVerification(CaRuntime runtime) {
    this.runtime = runtime;
  }

  @Override
  public void process(Exchange exchange) {
    Enrollment enrollment = exchange.getProperty(Enrollment.PROPERTY, Enrollment.class);
    var provisioner = Optional.ofNullable(
        enrollment.provisioners.gcp().get(enrollment.provisioner.name()))
        .orElseThrow(() -> new InternalException("verify-gcp", "provisioner "
            + enrollment.provisioner.name() + " vanished after identify"));
    enrollment.identity = CloudSubjects.fromRequest(provisioner.verify(enrollment.ott,
        enrollment.csr.publicKey(), runtime.clock().instant()), enrollment.csr);
  }
}
