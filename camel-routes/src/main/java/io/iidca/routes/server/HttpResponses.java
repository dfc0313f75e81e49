package io.iidca.routes.server;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

/** Helpers that set the status, headers and body of a response on an exchange. */
final class HttpResponses {

  private HttpResponses() {}

  static void json(Exchange exchange, int status, Object body) {
    var message = exchange.getMessage();
    message.removeHeaders("*");
    message.setHeader(Exchange.HTTP_RESPONSE_CODE, status);
    message.setHeader(Exchange.CONTENT_TYPE, "application/json");
    body(message, Json.writeBytes(body));
  }

  /**
   * Sets the bytes of a response body. Camel's Vert.x platform-http component (4.22) sends a
   * Content-Length only for a {@code byte[]} or {@link ByteBuffer} body, and any other body
   * in chunked transfer encoding, with the framing and buffers that this costs per response.
   * It writes a {@link ByteBuffer} in one buffer, but a {@code byte[]} through an input stream.
   */
  static void body(Message message, byte[] body) {
    message.setBody(ByteBuffer.wrap(body));
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
