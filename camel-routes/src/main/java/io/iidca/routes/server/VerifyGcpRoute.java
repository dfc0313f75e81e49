package io.iidca.routes.server;

import org.apache.camel.Processor;

/**
 * Route {@code verify-gcp}: verifies the GCP identity token, its key binding, project, service
 * account, zone and instance age.
 */
public final class VerifyGcpRoute extends StageRoute {

  private final CaRuntime runtime;

  public VerifyGcpRoute(CaRuntime runtime) {
    super("verify-gcp");
    this.runtime = runtime;
  }

  @Override
  Processor processor() {
    return new GcpVerification(runtime);
  }
}
