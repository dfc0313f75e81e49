package io.iidca.routes.server;

import org.apache.camel.builder.RouteBuilder;

/** Routes for revocation and the operator's registration endpoints; see LifecycleHandlers. */
public final class LifecycleRoutes extends RouteBuilder {

  private final LifecycleHandlers handlers;

  public LifecycleRoutes(CaRuntime runtime) {
    this.handlers = new LifecycleHandlers(runtime);
  }

  @Override
  public void configure() {
    for (String prefix : new String[] {"", "/1.0"}) {
      String suffix = prefix.isEmpty() ? "" : "-v1";
      from("platform-http:" + prefix + "/revoke?httpMethodRestrict=POST")
          .routeId("api-revoke" + suffix)
          .routeConfigurationId(ErrorRoutes.CONFIGURATION_ID)
          .bean(handlers, "revoke");
    }
    from("platform-http:/admin/instances?httpMethodRestrict=GET")
        .routeId("admin-instances")
        .routeConfigurationId(ErrorRoutes.CONFIGURATION_ID)
        .bean(handlers, "listInstances");
    from("platform-http:/admin/instances/reset?httpMethodRestrict=POST")
        .routeId("admin-instances-reset")
        .routeConfigurationId(ErrorRoutes.CONFIGURATION_ID)
        .bean(handlers, "resetInstance");
  }
}
