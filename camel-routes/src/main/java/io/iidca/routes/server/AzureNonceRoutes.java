package io.iidca.routes.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.iidca.ca.azure.NonceStore;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.error.MalformedRequestException;
import io.iidca.ca.error.NotFoundException;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /1.0/azure/nonce} (and {@code /azure/nonce}): issues a single-use nonce for an
 * Azure provisioner. The body is {@code {"provisioner":"NAME"}}; the response is 201 with
 * {@code {"nonce":"1234567890","expiresAt":"2026-01-01T00:05:00Z"}}. An unknown or non-Azure
 * provisioner gets 404. The client passes the nonce to IMDS's attested document, and the
 * verify-azure stage consumes it.
 *
 * <p>No authentication: a nonce grants nothing by itself. Expired nonces are purged at most
 * once a minute, as nonces are issued.
 *
 * <p>NOTE: issuing is not rate-limited, so a client can fill the nonce table for up to
 * {@link #LIFETIME}; each row is about 60 bytes.
 */
public final class AzureNonceRoutes extends RouteBuilder {

  /** How long an issued nonce may be used. */
  public static final Duration LIFETIME = Duration.ofMinutes(5);
  static final String STAGE = "azure-nonce";
  private static final Duration PURGE_INTERVAL = Duration.ofMinutes(1);
  private static final int MAX_BODY_BYTES = 4 * 1024;
  private static final Logger LOG = LoggerFactory.getLogger(AzureNonceRoutes.class);

  private final CaRuntime runtime;
  private Instant lastPurge = Instant.MIN;

  public AzureNonceRoutes(CaRuntime runtime) {
    this.runtime = runtime;
  }

  @Override
  public void configure() {
    for (String prefix : new String[] {"", "/1.0"}) {
      from("platform-http:" + prefix + "/azure/nonce?httpMethodRestrict=POST")
          .routeId("api-azure-nonce" + (prefix.isEmpty() ? "" : "-v1"))
          .routeConfigurationId(ErrorRoutes.CONFIGURATION_ID)
          .process(this::issue).id("azure-nonce-step" + (prefix.isEmpty() ? "" : "-v1"));
    }
  }

  void issue(Exchange exchange) {
    String name = provisionerName(exchange);
    ProvisionerConfig provisioner = runtime.provisioners().stream()
        .filter(p -> p.name().equals(name) && p.isAzure())
        .findFirst()
        .orElseThrow(() -> new NotFoundException(STAGE, "no Azure provisioner named " + name));
    NonceStore nonces = runtime.store();
    Instant now = runtime.clock().instant();
    purgeExpired(nonces, now);
    Instant expiresAt = now.plus(LIFETIME);
    String nonce = nonces.issueNonce(provisioner.name(), expiresAt);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("nonce", nonce);
    body.put("expiresAt", expiresAt.toString());
    HttpResponses.json(exchange, 201, body);
  }

  private void purgeExpired(NonceStore nonces, Instant now) {
    synchronized (this) {
      if (now.isBefore(lastPurge.plus(PURGE_INTERVAL))) {
        return;
      }
      lastPurge = now;
    }
    int purged = nonces.purgeExpiredNonces(now);
    if (purged > 0) {
      LOG.info("azure-nonce: purged {} expired nonces", purged);
    }
  }

  private static String provisionerName(Exchange exchange) {
    byte[] body = exchange.getMessage().getBody(byte[].class);
    if (body == null || body.length == 0 || body.length > MAX_BODY_BYTES) {
      throw new MalformedRequestException(STAGE, "request body must be a JSON object of at"
          + " most " + MAX_BODY_BYTES + " bytes, such as {\"provisioner\":\"NAME\"}");
    }
    JsonNode json;
    try {
      json = Json.MAPPER.readTree(body);
    } catch (IOException e) {
      throw new MalformedRequestException(STAGE, "request body is not valid JSON");
    }
    if (json == null || !json.path("provisioner").isTextual()
        || json.get("provisioner").asText().isBlank()) {
      throw new MalformedRequestException(STAGE, "request body has no string field"
          + " 'provisioner'; send {\"provisioner\":\"NAME\"}");
    }
    return json.get("provisioner").asText();
  }
}
