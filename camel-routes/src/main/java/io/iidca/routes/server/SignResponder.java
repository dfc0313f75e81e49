package io.iidca.routes.server;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The respond stage: {@code 201} with step-ca's sign response, {@code crt} (the leaf),
 * {@code ca} (the intermediate) and {@code certChain} (both), each in PEM; and the audit line.
 */
final class SignResponder implements Processor {

  private final CaRuntime runtime;

  SignResponder(CaRuntime runtime) {
    this.runtime = runtime;
  }

  @Override
  public void process(Exchange exchange) {
    Enrollment enrollment = exchange.getProperty(Enrollment.PROPERTY, Enrollment.class);
    String leaf = enrollment.certificatePem;
    String intermediate = runtime.intermediatePem();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("crt", leaf);
    body.put("ca", intermediate);
    body.put("certChain", List.of(leaf, intermediate));
    HttpResponses.json(exchange, 201, body);
    exchange.getMessage().setHeader("X-Request-Id", enrollment.requestId);
    AuditLog.issued(enrollment, runtime.clock().instant());
  }
}
