package io.iidca.routes.server;

import org.apache.camel.Processor;

/** Route {@code record}: stores certificate, token id and registration in one transaction. */
public final class RecordRoute extends StageRoute {

  private final CaRuntime runtime;

  public RecordRoute(CaRuntime runtime) {
    super("record");
    this.runtime = runtime;
  }

  @Override
  Processor processor() {
    return new RecordStage(runtime);
  }
}
