package io.iidca.routes.server;

import org.apache.camel.Processor;

/** Route {@code respond}: the 201 response and the audit line. */
public final class RespondRoute extends StageRoute {

  private final CaRuntime runtime;

  public RespondRoute(CaRuntime runtime) {
    super("respond");
    this.runtime = runtime;
  }

  @Override
  Processor processor() {
    return new SignResponder(runtime);
  }
}
