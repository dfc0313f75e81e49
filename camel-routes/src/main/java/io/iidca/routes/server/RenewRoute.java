package io.iidca.routes.server;

import org.apache.camel.Processor;

/** Route {@code renew}: authenticates the client certificate and applies the renewal rules. */
public final class RenewRoute extends StageRoute {

  private final CaRuntime runtime;

  public RenewRoute(CaRuntime runtime) {
    super("renew");
    this.runtime = runtime;
  }

  @Override
  Processor processor() {
    return new RenewalStage(runtime);
  }
}
