package io.iidca.routes.server;

import org.apache.camel.Processor;

/** Route {@code decode}: parses the JSON body and checks the CSR's signature. */
public final class DecodeRoute extends StageRoute {

  private final CaRuntime runtime;

  public DecodeRoute(CaRuntime runtime) {
    super("decode");
    this.runtime = runtime;
  }

  @Override
  Processor processor() {
    return new Decoder();
  }
}
