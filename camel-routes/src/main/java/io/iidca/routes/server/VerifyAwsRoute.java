package io.iidca.routes.server;

import org.apache.camel.Processor;

/** Route {@code verify-aws}: verifies the AWS document, token, account and instance age. */
public final class VerifyAwsRoute extends StageRoute {

  private final CaRuntime runtime;

  public VerifyAwsRoute(CaRuntime runtime) {
    super("verify-aws");
    this.runtime = runtime;
  }

  @Override
  Processor processor() {
    return new AwsVerification(runtime);
  }
}
