package io.iidca.routes.server;

import org.apache.camel.builder.RouteBuilder;

/**
 * Base of the pipeline's stage routes: each stage is one route, {@code direct:<id>} with route
 * id {@code <id>}, and one processor with step id {@code <id>-step}, which a test can replace by
 * id. Stages have no error handler, so failures return to {@code sign-request}.
 */
abstract class StageRoute extends RouteBuilder {

  private final String id;

  StageRoute(String id) {
    this.id = id;
  }

  abstract org.apache.camel.Processor processor();

  @Override
  public void configure() {
    from("direct:" + id).routeId(id)
        .errorHandler(noErrorHandler())
        .process(processor()).id(id + "-step");
  }
}
