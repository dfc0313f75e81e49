package io.iidca.routes.server;

import java.util.UUID;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;

/**
 * The HTTPS API on the platform-http (Vert.x) component, with step-ca's paths: each route
 * exists with and without the {@code /1.0} prefix. Sign requests enter the pipeline at
 * {@code direct:sign-request}; renew and rekey requests, authenticated by the client's
 * certificate over mutual TLS or in a possession token, at {@code direct:renewal}.
 */
public final class ApiRoutes extends RouteBuilder {

  private final ApiHandlers handlers;
  private final CaRuntime runtime;

  public ApiRoutes(CaRuntime runtime) {
    this.runtime = runtime;
    this.handlers = new ApiHandlers(runtime);
  }

  @Override
  public void configure() {
    for (String prefix : new String[] {"", "/1.0"}) {
      String suffix = prefix.isEmpty() ? "" : "-v1";
      from("platform-http:" + prefix + "/sign?httpMethodRestrict=POST")
          .routeId("api-sign" + suffix)
          .routeConfigurationId(ErrorRoutes.CONFIGURATION_ID)
          .to("direct:sign-request");
      for (String operation : new String[] {"renew", "rekey"}) {
        from("platform-http:" + prefix + "/" + operation + "?httpMethodRestrict=POST")
            .routeId("api-" + operation + suffix)
            .routeConfigurationId(ErrorRoutes.CONFIGURATION_ID)
            .process(exchange -> begin(exchange, operation)).id("begin-" + operation + suffix)
            .to("direct:renewal");
      }
      get(prefix, "/health", "health", suffix).bean(handlers, "health");
      get(prefix, "/roots", "roots", suffix).bean(handlers, "roots");
      get(prefix, "/root/{sha}", "root", suffix).bean(handlers, "root");
      get(prefix, "/provisioners", "provisioners", suffix).bean(handlers, "provisioners");
      get(prefix, "/version", "version", suffix).bean(handlers, "version");
    }

    from("direct:sign-request").routeId("sign-request")
        .routeConfigurationId(ErrorRoutes.CONFIGURATION_ID)
        .process(exchange -> begin(exchange, "sign")).id("begin")
        .to("direct:decode").id("to-decode")
        .to("direct:identify").id("to-identify")
        .toD("direct:verify-${exchangeProperty." + Enrollment.PROVIDER_PROPERTY + "}")
        .id("to-verify")
        .to("direct:policy").id("to-policy")
        .to("direct:sign").id("to-sign")
        .to("direct:record").id("to-record")
        .to("direct:respond").id("to-respond");

    from("direct:renewal").routeId("renewal")
        .routeConfigurationId(ErrorRoutes.CONFIGURATION_ID)
        .to("direct:renew").id("to-renew")
        .to("direct:sign").id("renewal-to-sign")
        .to("direct:record").id("renewal-to-record")
        .to("direct:respond").id("renewal-to-respond");
  }

  private org.apache.camel.model.RouteDefinition get(String prefix, String path, String name,
      String suffix) {
    return from("platform-http:" + prefix + path + "?httpMethodRestrict=GET")
        .routeId("api-" + name + suffix)
        .routeConfigurationId(ErrorRoutes.CONFIGURATION_ID);
  }

  private void begin(Exchange exchange, String event) {
    Enrollment enrollment = new Enrollment(UUID.randomUUID().toString(),
        runtime.clock().instant());
    enrollment.event = event;
    enrollment.rekey = event.equals("rekey");
    exchange.setProperty(Enrollment.PROPERTY, enrollment);
  }
}
