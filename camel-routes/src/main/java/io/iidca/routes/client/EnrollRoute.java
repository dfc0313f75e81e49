package io.iidca.routes.client;

import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;

/**
 * The client's enrollment route, {@code direct:enroll}: make the key and CSR, fetch the
 * instance identity, build the token, post them to the CA, write the files. The body is a
 * {@link ClientEnrollment}; failures propagate to the caller unchanged.
 */
public final class EnrollRoute extends RouteBuilder {

  @Override
  public void configure() {
    from("direct:enroll").routeId("enroll")
        .errorHandler(noErrorHandler())
        .process(exchange -> enrollment(exchange).generateKey()).id("generate-key")
        .process(exchange -> enrollment(exchange).fetchIdentity()).id("fetch-iid")
        .process(exchange -> enrollment(exchange).buildRequest()).id("build-request")
        .process(exchange -> enrollment(exchange).post()).id("post")
        .process(exchange -> enrollment(exchange).write()).id("write");
  }

  private static ClientEnrollment enrollment(Exchange exchange) {
    return exchange.getMessage().getBody(ClientEnrollment.class);
  }
}
