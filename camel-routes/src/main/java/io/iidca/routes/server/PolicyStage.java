package io.iidca.routes.server;

import io.iidca.ca.policy.IssuancePolicy;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/** The policy stage: names, name policy, key, validity; produces the certificate template. */
final class PolicyStage implements Processor {

  private final CaRuntime runtime;

  PolicyStage(CaRuntime runtime) {
    this.runtime = runtime;
  }

  /**
   * Applies policy as of the time the request was received, because the decode stage resolved
   * durations such as {@code notAfter: 5m} from that instant; the intermediate's notAfter
   * bounds the certificate's. The CA's name policy applies beside the provisioner's.
   */
  @Override
  public void process(Exchange exchange) {
    Enrollment enrollment = exchange.getProperty(Enrollment.PROPERTY, Enrollment.class);
    enrollment.template = IssuancePolicy.apply(enrollment.provisioner, enrollment.identity,
        enrollment.csr, enrollment.notBefore, enrollment.notAfter, enrollment.receivedAt,
        runtime.issuer().certificate().getNotAfter().toInstant(),
        runtime.config().namePolicy());
  }
}
