package io.iidca.routes.server;

import org.apache.camel.Processor;

/**
 * Route {@code verify-azure}: verifies the managed-identity token, the attested document and
 * its nonce.
 */
public final class VerifyAzureRoute extends StageRoute {

  private final CaRuntime runtime;

  public VerifyAzureRoute(CaRuntime runtime) {
    super("verify-azure");
    this.runtime = runtime;
  }

  @Override
  Processor processor() {
    return new AzureVerification(runtime);
  }
}
