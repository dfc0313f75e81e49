package io.iidca.routes.server;

import io.iidca.ca.error.InternalException;
import java.util.Optional;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/** The verify-aws stage: full verification by the provisioner that identify selected. */
final class AwsVerification implements Processor {

  private final CaRuntime runtime;

  AwsVerification(CaRuntime runtime) {
    this.runtime = runtime;
  }

  @Override
  public void process(Exchange exchange) {
    Enrollment enrollment = exchange.getProperty(Enrollment.PROPERTY, Enrollment.class);
    var provisioner = Optional.ofNullable(
        enrollment.provisioners.aws().get(enrollment.provisioner.name()))
        .orElseThrow(() -> new InternalException("verify-aws", "provisioner "
            + enrollment.provisioner.name() + " vanished after identify"));
    enrollment.identity = provisioner.verify(enrollment.awsToken, runtime.clock().instant());
  }
}
