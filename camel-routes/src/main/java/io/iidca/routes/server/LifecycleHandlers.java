package io.iidca.routes.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.IidcaException;
import io.iidca.ca.error.MalformedRequestException;
import io.iidca.ca.error.NotFoundException;
import io.iidca.ca.provisioner.AdminToken;
import io.iidca.ca.store.CertificateRecord;
import io.iidca.ca.store.Registration;
import io.iidca.ca.store.Revocation;
import java.io.IOException;
import java.security.interfaces.ECPublicKey;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Revocation and the operator's registration endpoints.
 *
 * <ul>
 *   <li>{@code POST /1.0/revoke} with step's body {@code {"serial", "reasonCode", "reason"}}:
 *       the holder of a certificate revokes it with that certificate, over mutual TLS or in a
 *       possession token ({@link PeerCertificates}), or an operator revokes any serial with an
 *       operator token in {@code ott}.
 *   <li>{@code GET /admin/instances[?provisioner=P]} and {@code POST /admin/instances/reset}
 *       with {@code {"provisioner", "instanceId"}}: operator token as a bearer token.
 * </ul>
 *
 * <p>Every change writes one line to the audit log.
 */
final class LifecycleHandlers {

  static final String REVOKE_PATH = "/1.0/revoke";
  static final String ADMIN_PATH = "/admin";
  /**
   * The scope of operator tokens' ids in the store's used tokens, in place of a provisioner's
   * name. It starts with '#', which ProvisionerConfig rejects in names.
   */
  static final String OPERATOR_TOKEN_SCOPE = "#operator";
  private static final Logger AUDIT = LoggerFactory.getLogger("iidca.audit");
  private static final int MAX_BODY_BYTES = 16 * 1024;

  private final CaRuntime runtime;

  LifecycleHandlers(CaRuntime runtime) {
    this.runtime = runtime;
  }

  /** Revokes a certificate, and writes an audit line whether it succeeds or is rejected. */
  void revoke(Exchange exchange) {
    String serial = null;
    try {
      JsonNode body = json(exchange, "revoke");
      serial = SerialNumbers.parse(body.path("serial").asText(""), "revoke");
      revoke(exchange, body, serial);
    } catch (IidcaException rejected) {
      AuditLog.revocationRejected(serial, rejected);
      throw rejected;
    }
  }

  private void revoke(Exchange exchange, JsonNode body, String serial) {
    int reasonCode = body.path("reasonCode").asInt(0);
    if (reasonCode < 0 || reasonCode > 10 || reasonCode == 7) {
      throw new MalformedRequestException("revoke", "reasonCode " + reasonCode
          + " is not a CRLReason of RFC 5280 (0 to 10, without 7)");
    }
    String reason = body.path("reason").asText("");
    String revokedBy;
    if (body.hasNonNull("ott")) {
      operator(body.get("ott").asText(), REVOKE_PATH);
      revokedBy = "operator";
    } else {
      CertificateRecord holder = PeerCertificates.authenticate(exchange, runtime, "revoke");
      if (!holder.serial().equals(serial)) {
        throw new IdentityRejectedException("revoke", "client certificate "
            + holder.serial() + " may revoke only itself, not " + serial);
      }
      revokedBy = "certificate holder";
    }
    Revocation revocation = runtime.store().revoke(serial, reasonCode,
        reason.length() > 1024 ? reason.substring(0, 1024) : reason, revokedBy,
        runtime.clock().instant());
    audit("revoke", "serial=" + serial + " reason_code=" + reasonCode + " by=\""
        + revokedBy + "\"");
    HttpResponses.json(exchange, 200, Map.of("status", "ok", "revokedAt",
        revocation.revokedAt().toString()));
  }

  void listInstances(Exchange exchange) {
    operator(bearer(exchange), ADMIN_PATH);
    String provisioner = exchange.getMessage().getHeader("provisioner", String.class);
    List<Map<String, Object>> instances = new ArrayList<>();
    for (Registration registration : runtime.store().registrations(
        provisioner == null || provisioner.isBlank() ? null : provisioner)) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("provisioner", registration.provisioner());
      entry.put("instanceId", registration.instanceId());
      entry.put("account", registration.account());
      entry.put("firstEnrolledAt", registration.firstEnrolledAt().toString());
      entry.put("lastEnrolledAt", registration.lastEnrolledAt() == null ? null
          : registration.lastEnrolledAt().toString());
      entry.put("enrollments", registration.enrollments());
      entry.put("serials", runtime.store().certificatesOf(registration.provisioner(),
          registration.instanceId()).stream().map(CertificateRecord::serial).toList());
      instances.add(entry);
    }
    HttpResponses.json(exchange, 200, Map.of("instances", instances));
  }

  void resetInstance(Exchange exchange) {
    operator(bearer(exchange), ADMIN_PATH);
    JsonNode body = json(exchange, "reset");
    String provisioner = body.path("provisioner").asText("");
    String instanceId = body.path("instanceId").asText("");
    if (provisioner.isBlank() || instanceId.isBlank()) {
      throw new MalformedRequestException("reset", "send provisioner and instanceId");
    }
    if (!runtime.store().resetRegistration(provisioner, instanceId)) {
      throw new NotFoundException("reset", "instance " + instanceId + " has no registration"
          + " with provisioner " + provisioner);
    }
    audit("reset", "provisioner=\"" + provisioner + "\" instance_id=" + instanceId);
    HttpResponses.json(exchange, 200, Map.of("reset", true));
  }

  private void operator(String token, String path) {
    AdminToken.Verified verified = AdminToken.verify(token,
        (ECPublicKey) runtime.issuer().certificate().getPublicKey(),
        runtime.config().dnsNames(), path, runtime.clock().instant());
    runtime.store().useToken(OPERATOR_TOKEN_SCOPE, verified.tokenId(), verified.expiry(),
        "operator");
  }

  private static String bearer(Exchange exchange) {
    String header = exchange.getMessage().getHeader("Authorization", String.class);
    if (header == null || !header.startsWith("Bearer ")) {
      throw new IdentityRejectedException("admin", "no Authorization: Bearer operator token");
    }
    return header.substring("Bearer ".length()).strip();
  }

  private static JsonNode json(Exchange exchange, String stage) {
    byte[] body = exchange.getMessage().getBody(byte[].class);
    if (body == null || body.length == 0 || body.length > MAX_BODY_BYTES) {
      throw new MalformedRequestException(stage, "request body must be a JSON object of at"
          + " most " + MAX_BODY_BYTES + " bytes");
    }
    try {
      JsonNode json = Json.MAPPER.readTree(body);
      if (json == null || !json.isObject()) {
        throw new MalformedRequestException(stage, "request body must be a JSON object");
      }
      return json;
    } catch (IOException e) {
      throw new MalformedRequestException(stage, "request body is not valid JSON");
    }
  }

  private static void audit(String event, String fields) {
    AUDIT.info("event={} outcome=done {}", event, fields);
  }
}
