package io.iidca.routes.server;

import io.iidca.ca.error.IidcaException;
import org.apache.camel.builder.RouteConfigurationBuilder;

/**
 * The one place where errors become responses: every API route uses this configuration, and
 * the pipeline's stage routes have no error handler of their own, so an exception from any
 * stage reaches here unchanged and is mapped by its type.
 */
public final class ErrorRoutes extends RouteConfigurationBuilder {

  public static final String CONFIGURATION_ID = "api-errors";

  private final CaRuntime runtime;

  public ErrorRoutes(CaRuntime runtime) {
    this.runtime = runtime;
  }

  @Override
  public void configuration() {
    ErrorResponder responder = new ErrorResponder(runtime);
    routeConfiguration(CONFIGURATION_ID)
        .onException(IidcaException.class).handled(true).process(responder).end()
        .onException(Exception.class).handled(true).process(responder).end();
  }
}
