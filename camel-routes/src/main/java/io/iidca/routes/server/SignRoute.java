package io.iidca.routes.server;

import org.apache.camel.Processor;

/** Route {@code sign}: signs the certificate with the intermediate key. */
public final class SignRoute extends StageRoute {

  private final CaRuntime runtime;

  public SignRoute(CaRuntime runtime) {
    super("sign");
    this.runtime = runtime;
  }

  @Override
  Processor processor() {
    return new SignStage(runtime);
  }
}
