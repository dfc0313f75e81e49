package io.iidca.routes.server;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.camel.Exchange;

/** Sets a JSON response on an exchange. */
final class HttpResponses {

  private HttpResponses() {}

  static void json(Exchange exchange, int status, Object body) {
    var message = exchange.getMessage();
    message.removeHeaders("*");
    message.setHeader(Exchange.HTTP_RESPONSE_CODE, status);
    message.setHeader(Exchange.CONTENT_TYPE, "application/json");
    message.setBody(Json.write(body));
  }

  /** The error body of step-ca: {@code {"status": N, "message": "..."}}. */
  static void error(Exchange exchange, int status, String message, String requestId) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("status", status);
    body.put("message", message);
    if (requestId != null) {
      body.put("requestId", requestId);
    }
    json(exchange, status, body);
    if (requestId != null) {
      exchange.getMessage().setHeader("X-Request-Id", requestId);
    }
  }
}
