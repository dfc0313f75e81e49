package io.iidca.testkit.aws;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves IMDS requests: the IMDSv2 token {@code PUT} and {@code GET} of the metadata tree, with
 * the status codes that the AWS EC2 user guide page "Use the Instance Metadata Service to access
 * instance metadata" lists. Checks run in this order: method (405), token (401), path (404).
 * Thread-safe.
 */
final class ImdsHandler implements HttpHandler {

  static final String TOKEN_PATH = "/latest/api/token";
  static final String TOKEN_HEADER = "X-aws-ec2-metadata-token";
  static final String TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds";

  private static final Logger LOG = LoggerFactory.getLogger(ImdsHandler.class);

  private final MetadataTree tree;
  private final ImdsTokens tokens;
  private final HeldExchanges heldExchanges;
  private final boolean imdsV2Only;

  /**
   * Creates a handler. A non-null {@code heldExchanges} means that token {@code PUT}s get no
   * response and are handed to it.
   */
  ImdsHandler(
      MetadataTree tree, ImdsTokens tokens, HeldExchanges heldExchanges, boolean imdsV2Only) {
    this.tree = tree;
    this.tokens = tokens;
    this.heldExchanges = heldExchanges;
    this.imdsV2Only = imdsV2Only;
  }

  @Override
  public void handle(HttpExchange exchange) {
    String path = exchange.getRequestURI().getPath();
    try {
      if (path.equals(TOKEN_PATH)) {
        handleToken(exchange);
      } else {
        handleGet(exchange, path);
      }
    } catch (IOException e) {
      // The client went away or the connection broke; nothing is left to send.
      LOG.debug("aws-imds: {} {} failed: {}", exchange.getRequestMethod(), path, e.toString());
      exchange.close();
    } catch (RuntimeException e) {
      LOG.warn("aws-imds: {} {} failed", exchange.getRequestMethod(), path, e);
      sendInternalError(exchange);
    }
  }

  private static void sendInternalError(HttpExchange exchange) {
    try {
      if (exchange.getResponseCode() == -1) {
        sendError(exchange, 500, "Internal Server Error");
      }
    } catch (IOException e) {
      LOG.debug("aws-imds: sending 500 failed: {}", e.toString());
    } finally {
      exchange.close();
    }
  }

  private void handleToken(HttpExchange exchange) throws IOException {
    Headers request = exchange.getRequestHeaders();
    if (!exchange.getRequestMethod().equals("PUT")) {
      sendMethodNotAllowed(exchange, "PUT");
    } else if (heldExchanges != null) {
      // Emulates a PUT response hop limit of 1 seen from a container: no response arrives.
      LOG.debug("aws-imds: PUT {} held without a response (dropTokenPut)", TOKEN_PATH);
      heldExchanges.hold(exchange);
    } else if (request.containsKey("X-Forwarded-For")) {
      // EC2 rejects token requests that carry X-Forwarded-For, as a guard against proxies.
      sendError(exchange, 403, "Forbidden");
    } else {
      Integer ttl = parseTtl(request.getFirst(TTL_HEADER));
      if (ttl == null) {
        sendError(exchange, 400, "Bad Request");
        return;
      }
      exchange.getResponseHeaders().set(TTL_HEADER, Integer.toString(ttl));
      send(exchange, 200, tokens.issue(ttl).getBytes(StandardCharsets.US_ASCII));
    }
  }

  private void handleGet(HttpExchange exchange, String path) throws IOException {
    if (!exchange.getRequestMethod().equals("GET")) {
      sendMethodNotAllowed(exchange, "GET");
      return;
    }
    if (!isAuthorized(exchange.getRequestHeaders().getFirst(TOKEN_HEADER))) {
      sendError(exchange, 401, "Unauthorized");
      return;
    }
    byte[] body = tree.body(path);
    if (body == null) {
      sendError(exchange, 404, "Not Found");
      return;
    }
    send(exchange, 200, body);
  }

  /**
   * Returns whether a request may read metadata: a token must be valid when present (IMDSv2),
   * and a request without one (IMDSv1) passes unless IMDSv2 is required.
   */
  private boolean isAuthorized(String token) {
    if (token == null) {
      return !imdsV2Only;
    }
    return tokens.isValid(token);
  }

  /** Returns the TTL in seconds, or null when it is missing, not a number or out of range. */
  private static Integer parseTtl(String value) {
    if (value == null || !value.matches("[0-9]{1,6}")) {
      return null;
    }
    int ttl = Integer.parseInt(value);
    if (ttl < ImdsTokens.MIN_TTL_SECONDS || ttl > ImdsTokens.MAX_TTL_SECONDS) {
      return null;
    }
    return ttl;
  }

  private static void sendMethodNotAllowed(HttpExchange exchange, String allowed)
      throws IOException {
    exchange.getResponseHeaders().set("Allow", allowed);
    sendError(exchange, 405, "Method Not Allowed");
  }

  private static void sendError(HttpExchange exchange, int status, String reason)
      throws IOException {
    send(exchange, status, (status + " - " + reason).getBytes(StandardCharsets.US_ASCII));
  }

  private static void send(HttpExchange exchange, int status, byte[] body) throws IOException {
    Headers headers = exchange.getResponseHeaders();
    headers.set("Content-Type", "text/plain");
    headers.set("Server", "EC2ws");
    LOG.debug("aws-imds: {} {} -> {}", exchange.getRequestMethod(),
        exchange.getRequestURI().getPath(), status);
    exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }
}
