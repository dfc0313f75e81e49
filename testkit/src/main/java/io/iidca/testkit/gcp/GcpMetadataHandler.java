package io.iidca.testkit.gcp;

import static io.iidca.testkit.http.HttpExchanges.send;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.iidca.testkit.http.HttpExchanges;
import java.io.IOException;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the metadata paths and the key set of {@link GcpMetadataEmulator}. Thread-safe: the
 * instance is immutable and the signer, counter and failure switch are thread-safe.
 */
final class GcpMetadataHandler implements HttpHandler {

  static final String PREFIX = "/computeMetadata/v1/";
  static final String IDENTITY = PREFIX + "instance/service-accounts/default/identity";
  static final String JWKS = "/oauth2/v3/certs";
  private static final Logger LOG = LoggerFactory.getLogger(GcpMetadataHandler.class);

  private final GcpInstance instance;
  private final GcpTokenSigner signer;
  private final Clock clock;
  private final long jwksMaxAgeSeconds;
  private final AtomicInteger jwksFetches = new AtomicInteger();
  private final AtomicBoolean failJwks = new AtomicBoolean();
  private final Map<String, String> values = new HashMap<>();

  GcpMetadataHandler(GcpInstance instance, GcpTokenSigner signer, Clock clock,
      long jwksMaxAgeSeconds) {
    this.instance = instance;
    this.signer = signer;
    this.clock = clock;
    this.jwksMaxAgeSeconds = jwksMaxAgeSeconds;
    values.put(PREFIX + "instance/id", instance.instanceId());
    values.put(PREFIX + "instance/name", instance.instanceName());
    values.put(PREFIX + "instance/hostname", instance.hostname());
    values.put(PREFIX + "instance/zone", instance.zonePath());
    values.put(PREFIX + "instance/service-accounts/default/email",
        instance.serviceAccountEmail());
    values.put(PREFIX + "project/project-id", instance.projectId());
    values.put(PREFIX + "project/numeric-project-id", Long.toString(instance.projectNumber()));
  }

  int jwksFetches() {
    return jwksFetches.get();
  }

  void failJwks(boolean fail) {
    failJwks.set(fail);
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getRawPath();
      if (!exchange.getRequestMethod().equals("GET")) {
        send(exchange, 405, "text/plain", "method not allowed\n");
      } else if (path.equals(JWKS)) {
        serveKeys(exchange);
      } else if (path.startsWith(PREFIX)) {
        serveMetadata(exchange, path);
      } else {
        send(exchange, 404, "text/plain", "not found\n");
      }
    }
  }

  private void serveKeys(HttpExchange exchange) throws IOException {
    jwksFetches.incrementAndGet();
    if (failJwks.get()) {
      send(exchange, 500, "text/plain", "internal error (failJwks is set)\n");
      return;
    }
    exchange.getResponseHeaders().add("Cache-Control",
        "public, max-age=" + jwksMaxAgeSeconds + ", must-revalidate, no-transform");
    send(exchange, 200, "application/json; charset=UTF-8", signer.publicKeys().toString());
  }

  /**
   * Serves a metadata path. As on Compute Engine, every response carries
   * {@code Metadata-Flavor: Google}, and a request without that header, or with
   * {@code X-Forwarded-For}, gets 403.
   */
  private void serveMetadata(HttpExchange exchange, String path) throws IOException {
    exchange.getResponseHeaders().add("Metadata-Flavor", "Google");
    String flavor = exchange.getRequestHeaders().getFirst("Metadata-Flavor");
    if (exchange.getRequestHeaders().containsKey("X-Forwarded-For")) {
      send(exchange, 403, "text/plain", "X-Forwarded-For is not allowed\n");
    } else if (!"Google".equals(flavor)) {
      send(exchange, 403, "text/plain", "Missing Metadata-Flavor:Google header.\n");
    } else if (path.equals(IDENTITY)) {
      serveIdentity(exchange);
    } else if (values.containsKey(path)) {
      send(exchange, 200, "application/text", values.get(path));
    } else {
      send(exchange, 404, "text/plain", "not found\n");
    }
  }

  private void serveIdentity(HttpExchange exchange) throws IOException {
    Map<String, String> query =
        HttpExchanges.parseQuery(exchange.getRequestURI().getRawQuery());
    String audience = query.get("audience");
    String format = query.getOrDefault("format", "standard");
    if (audience == null || audience.isEmpty()) {
      send(exchange, 400, "text/plain", "non-empty audience parameter required\n");
      return;
    }
    if (!format.equals("standard") && !format.equals("full")) {
      send(exchange, 400, "text/plain", "format must be standard or full\n");
      return;
    }
    boolean licenses = "TRUE".equalsIgnoreCase(query.get("licenses"));
    String token = signer.sign(GcpTokenSigner.claims(instance, audience, clock.instant(),
        format.equals("full"), licenses).build());
    LOG.info("gcp-metadata: issued a {} identity token for instance {}", format,
        instance.instanceId());
    send(exchange, 200, "application/text", token);
  }
}
