package io.iidca.routes.server;

import org.apache.camel.Processor;

/** Route {@code identify}: finds the provisioner named by the token's audience. */
public final class IdentifyRoute extends StageRoute {

  private final CaRuntime runtime;

  public IdentifyRoute(CaRuntime runtime) {
    super("identify");
    this.runtime = runtime;
  }

  @Override
  Processor processor() {
    return new ProvisionerIdentifier(runtime);
  }
}
