package io.iidca.routes.server;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.util.RawValue;
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
  private volatile Quoted intermediate = new Quoted("", new RawValue("\"\""));

  SignResponder(CaRuntime runtime) {
    this.runtime = runtime;
  }

  @Override
  public void process(Exchange exchange) {
    Enrollment enrollment = exchange.getProperty(Enrollment.PROPERTY, Enrollment.class);
    RawValue leaf = quote(enrollment.certificate.pem());
    RawValue chainEnd = intermediate();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("crt", leaf);
    body.put("ca", chainEnd);
    body.put("certChain", List.of(leaf, chainEnd));
    HttpResponses.json(exchange, 201, body);
    exchange.getMessage().setHeader("X-Request-Id", enrollment.requestId);
    AuditLog.issued(enrollment, runtime.clock().instant());
  }

  /**
   * Returns the intermediate's PEM as a JSON string, escaped once for as long as the runtime
   * serves the same PEM object. Jackson's escaping of PEM line breaks was the hottest method of
   * the sign path in a JFR profile once signatures ran natively.
   */
  private RawValue intermediate() {
    String pem = runtime.intermediatePem();
    Quoted cached = intermediate;
    if (cached.pem() != pem) {
      cached = new Quoted(pem, quote(pem));
      intermediate = cached;
    }
    return cached.json();
  }

  /** Returns a JSON string literal that Jackson copies into the body as it is. */
  private static RawValue quote(String text) {
    StringBuilder json = new StringBuilder(text.length() + text.length() / 32 + 2);
    json.append('"');
    JsonStringEncoder.getInstance().quoteAsString(text, json);
    return new RawValue(json.append('"').toString());
  }

  private record Quoted(String pem, RawValue json) {}
}
