package io.iidca.routes.server;

import org.apache.camel.Processor;

/** Route {@code policy}: decides names, key and validity of the certificate. */
public final class PolicyRoute extends StageRoute {

  private final CaRuntime runtime;

  public PolicyRoute(CaRuntime runtime) {
    super("policy");
    this.runtime = runtime;
  }

  @Override
  Processor processor() {
    return new PolicyStage(runtime);
  }
}
