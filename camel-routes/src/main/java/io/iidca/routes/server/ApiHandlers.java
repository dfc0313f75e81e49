package io.iidca.routes.server;

import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.error.NotFoundException;
import io.iidca.ca.error.UnavailableException;
import io.iidca.ca.pki.Fingerprints;
import io.iidca.ca.pki.Pem;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import org.apache.camel.Exchange;

/** The read-only endpoints, in step-ca's JSON shapes. */
final class ApiHandlers {

  /** The product version, from the jar manifest when packaged. */
  static final String VERSION = versionFromManifest();

  private final CaRuntime runtime;

  ApiHandlers(CaRuntime runtime) {
    this.runtime = runtime;
  }

  /** {@code GET /health}: 200 {"status":"ok"}, or 503 when the store does not respond. */
  void health(Exchange exchange) {
    if (!runtime.store().isHealthy()) {
      throw new UnavailableException("health", "store does not respond");
    }
    HttpResponses.json(exchange, 200, Map.of("status", "ok"));
  }

  /** {@code GET /roots}: {"crts": [PEM]}. */
  void roots(Exchange exchange) {
    HttpResponses.json(exchange, 200, Map.of("crts", List.of(Pem.encode(runtime.issuer()
        .root()))));
  }

  /** {@code GET /root/{sha256}}: {"ca": PEM} when the fingerprint is this CA's root. */
  void root(Exchange exchange) {
    String requested = exchange.getMessage().getHeader("sha", String.class);
    String normalized;
    try {
      normalized = Fingerprints.normalize(requested == null ? "" : requested);
    } catch (IllegalArgumentException e) {
      throw new NotFoundException("root", "no root with fingerprint "
          + String.valueOf(requested).replaceAll("[\\r\\n]", ""));
    }
    if (!normalized.equals(runtime.rootFingerprint())) {
      throw new NotFoundException("root", "no root with fingerprint " + normalized);
    }
    HttpResponses.json(exchange, 200, Map.of("ca", Pem.encode(runtime.issuer().root())));
  }

  /** {@code GET /provisioners}: each provisioner with its restrictions. */
  void provisioners(Exchange exchange) {
    List<Map<String, Object>> list = new ArrayList<>();
    for (ProvisionerConfig provisioner : runtime.provisioners()) {
      list.add(ProvisionerDescriptions.describe(provisioner));
    }
    HttpResponses.json(exchange, 200, Map.of("provisioners", list, "nextCursor", ""));
  }

  /** {@code GET /version}. */
  void version(Exchange exchange) {
    HttpResponses.json(exchange, 200, Map.of("version", VERSION,
        "requireClientAuthentication", false));
  }

  private static String versionFromManifest() {
    String version = ApiHandlers.class.getPackage().getImplementationVersion();
    return version == null ? "development" : version.toLowerCase(Locale.ROOT);
  }
}
