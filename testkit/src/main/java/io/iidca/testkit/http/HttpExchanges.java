package io.iidca.testkit.http;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Response writing and query parsing shared by the metadata emulators' handlers. Stateless, so
 * thread-safe.
 */
public final class HttpExchanges {

  private HttpExchanges() {}

  /**
   * Sends {@code body} encoded as UTF-8 with the status and {@code Content-Type}, and closes
   * the response body. Other response headers must be set before.
   */
  public static void send(HttpExchange exchange, int status, String contentType, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  /**
   * Decodes a raw {@code application/x-www-form-urlencoded} query, such as the one from {@link
   * java.net.URI#getRawQuery()}. A repeated name keeps its first value, a name without {@code =}
   * gets the empty value, and a null query gives an empty map.
   */
  public static Map<String, String> parseQuery(String rawQuery) {
    Map<String, String> query = new HashMap<>();
    if (rawQuery == null) {
      return query;
    }
    for (String pair : rawQuery.split("&")) {
      int equals = pair.indexOf('=');
      String name = equals < 0 ? pair : pair.substring(0, equals);
      String value = equals < 0 ? "" : pair.substring(equals + 1);
      query.putIfAbsent(URLDecoder.decode(name, StandardCharsets.UTF_8),
          URLDecoder.decode(value, StandardCharsets.UTF_8));
    }
    return query;
  }
}
