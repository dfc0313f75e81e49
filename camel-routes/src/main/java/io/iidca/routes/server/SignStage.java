package io.iidca.routes.server;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/** The sign stage: the intermediate signs the template. The certificate is not yet recorded. */
final class SignStage implements Processor {

  private final CaRuntime runtime;

  SignStage(CaRuntime runtime) {
    this.runtime = runtime;
  }

  @Override
  public void process(Exchange exchange) {
    Enrollment enrollment = exchange.getProperty(Enrollment.PROPERTY, Enrollment.class);
    enrollment.certificate = runtime.issuer().sign(enrollment.template);
  }
}
