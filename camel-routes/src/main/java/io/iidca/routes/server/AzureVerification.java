package io.iidca.routes.server;

import io.iidca.ca.error.InternalException;
import io.iidca.ca.provisioner.AzureProvisioner;
import java.util.Optional;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The verify-azure stage: full verification of {@code ott} (the managed-identity token) and
 * {@code attestedDocument} by the provisioner that identify selected.
 */
final class AzureVerification implements Processor {

  private final CaRuntime runtime;

  AzureVerification(CaRuntime runtime) {
    this.runtime = runtime;
  }

  @Override
  public void process(Exchange exchange) {
    Enrollment enrollment = exchange.getProperty(Enrollment.PROPERTY, Enrollment.class);
    AzureProvisioner provisioner = Optional.ofNullable(
        enrollment.provisioners.azure().get(enrollment.provisioner.name()))
        .orElseThrow(() -> new InternalException(AzureProvisioner.STAGE, "provisioner "
            + enrollment.provisioner.name() + " vanished after identify"));
    enrollment.identity = CloudSubjects.fromRequest(provisioner.verify(enrollment.ott,
        enrollment.attestedDocument, runtime.clock().instant()), enrollment.csr);
  }
}
