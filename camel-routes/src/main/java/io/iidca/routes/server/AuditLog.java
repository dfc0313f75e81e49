package io.iidca.routes.server;

import io.iidca.ca.error.IidcaException;
import io.iidca.ca.pki.IssuedCertificate;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one line per issuance attempt, success or failure, to the logger {@code iidca.audit},
 * as space-separated {@code key=value} pairs. The line never holds the identity document, its
 * signature, the token, the CSR or a key: only ids, names, the serial, the validity and the
 * public key's fingerprint. CR and LF in a value are written as {@code \\r} and {@code \\n},
 * so that a value cannot start a forged line, other control characters as {@code \\uXXXX},
 * and a value longer than {@value #MAX_VALUE_LENGTH}
 * characters, such as a hostile subject, is cut there and marked as truncated; the store keeps
 * an issued certificate's full names under its serial.
 *
 * <p>Level follows the outcome: INFO for an issued certificate, WARN for a rejected request,
 * ERROR for an internal or unavailable failure.
 */
final class AuditLog {

  /** Maximum length of one value, in characters; a longer value is truncated. */
  static final int MAX_VALUE_LENGTH = 256;

  private static final Logger LOG = LoggerFactory.getLogger("iidca.audit");

  private AuditLog() {}

  static void issued(Enrollment enrollment, Instant now) {
    if (!LOG.isInfoEnabled()) {
      return;
    }
    Map<String, Object> fields = common(enrollment, now);
    IssuedCertificate certificate = enrollment.certificate;
    fields.put("outcome", enrollment.repeated ? "issued_earlier" : "issued");
    fields.put("status", 201);
    fields.put("serial", certificate.serialNumber().toString(16));
    fields.put("not_before", certificate.notBefore());
    fields.put("not_after", certificate.notAfter());
    fields.put("key_sha256", certificate.keyFingerprint());
    LOG.info(format(fields));
  }

  static void failed(Enrollment enrollment, IidcaException error, Instant now) {
    rejected(common(enrollment, now), error);
  }

  /**
   * Writes the line of a rejected revocation, which carries no enrollment; {@code serial} is
   * null when the request named no valid one.
   */
  static void revocationRejected(String serial, IidcaException error) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("event", "revoke");
    fields.put("serial", serial);
    rejected(fields, error);
  }

  /**
   * Writes the line of a sign, renew, rekey or revoke request that the server rejected with
   * 413 before any stage ran, because its body exceeded {@code limit} bytes. The routes exist
   * with and without the {@code /1.0} prefix. Other paths get no line, as they get none
   * otherwise.
   */
  static void bodyTooLarge(String path, long limit) {
    String endpoint = path.startsWith("/1.0/") ? path.substring("/1.0".length()) : path;
    String event = switch (endpoint) {
      case "/sign" -> "sign";
      case "/renew" -> "renew";
      case "/rekey" -> "rekey";
      case "/revoke" -> "revoke";
      default -> null;
    };
    if (event == null) {
      return;
    }
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("event", event);
    fields.put("outcome", "rejected");
    fields.put("status", 413);
    fields.put("stage", "receive");
    fields.put("reason", "request body exceeds " + limit + " bytes");
    LOG.warn(format(fields));
  }

  private static void rejected(Map<String, Object> fields, IidcaException error) {
    fields.put("outcome", "rejected");
    fields.put("status", error.status());
    fields.put("stage", error.stage());
    fields.put("reason", error.reason());
    String line = format(fields);
    if (error.status() >= 500) {
      LOG.error(line);
    } else {
      LOG.warn(line);
    }
  }

  private static Map<String, Object> common(Enrollment enrollment, Instant now) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("event", enrollment == null ? "sign" : enrollment.event);
    fields.put("request_id", enrollment == null ? null : enrollment.requestId);
    if (enrollment == null) {
      return fields;
    }
    fields.put("duration_ms", Duration.between(enrollment.receivedAt, now).toMillis());
    fields.put("provisioner", enrollment.provisioner == null ? null
        : enrollment.provisioner.name());
    var identity = enrollment.identity;
    if (identity != null) {
      fields.put("account", identity.account());
      fields.put("instance_id", identity.instanceId());
      fields.put("region", identity.region());
    }
    if (enrollment.template != null) {
      fields.put("subject", enrollment.template.commonName());
      fields.put("sans", String.join(",", enrollment.template.sans()));
    } else if (identity != null) {
      fields.put("subject", identity.subject());
    }
    return fields;
  }

  static String format(Map<String, Object> fields) {
    StringBuilder line = new StringBuilder();
    for (Map.Entry<String, Object> field : fields.entrySet()) {
      if (field.getValue() == null) {
        continue;
      }
      if (line.length() > 0) {
        line.append(' ');
      }
      line.append(field.getKey()).append('=').append(quote(String.valueOf(field.getValue())));
    }
    return line.toString();
  }

  /**
   * Returns {@code text} as the audit log writes a value, for other log lines that carry text
   * from a request, such as a token's claims in a rejection reason: control characters
   * escaped, and cut at {@value #MAX_VALUE_LENGTH} characters.
   */
  static String value(String text) {
    return quote(String.valueOf(text));
  }

  /**
   * Writes a value bare when it has no space, quote, equals sign, backslash or control
   * character, and otherwise in double quotes with {@code \\}, {@code \"}, {@code \\r},
   * {@code \\n} and {@code \\uXXXX} escapes.
   */
  private static String quote(String value) {
    String clean = truncate(value);
    boolean bare = !clean.isEmpty() && clean.codePoints().noneMatch(c -> c == ' ' || c == '"'
        || c == '=' || c == '\\' || Character.isISOControl(c));
    if (bare) {
      return clean;
    }
    StringBuilder quoted = new StringBuilder("\"");
    clean.codePoints().forEach(c -> {
      if (c == '\\' || c == '"') {
        quoted.append('\\').appendCodePoint(c);
      } else if (c == '\r') {
        quoted.append("\\r");
      } else if (c == '\n') {
        quoted.append("\\n");
      } else if (Character.isISOControl(c)) {
        quoted.append(String.format("\\u%04x", c));
      } else {
        quoted.appendCodePoint(c);
      }
    });
    return quoted.append('"').toString();
  }

  private static String truncate(String value) {
    int length = value.codePointCount(0, value.length());
    if (length <= MAX_VALUE_LENGTH) {
      return value;
    }
    return value.substring(0, value.offsetByCodePoints(0, MAX_VALUE_LENGTH))
        + "...(truncated from " + length + " characters)";
  }
}
