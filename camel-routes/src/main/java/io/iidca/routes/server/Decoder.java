package io.iidca.routes.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.iidca.ca.config.Durations;
import io.iidca.ca.error.MalformedRequestException;
import io.iidca.ca.pki.CertificateRequest;
import java.io.IOException;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The decode stage: parses the JSON body of a sign request ({@code csr}, {@code ott}, optional
 * {@code notBefore} and {@code notAfter} as RFC 3339 times or durations from now, as step's
 * client sends them) and checks the CSR's self-signature. Azure requests may add
 * {@code provisioner}, the provisioner's name, because an Azure token names only its tenant, and
 * {@code attestedDocument}, the base64 PKCS#7 of the instance's attested data. Nothing is
 * written.
 */
final class Decoder implements Processor {

  /** The largest body accepted: a CSR and a token with an AWS document fit in a few KiB. */
  static final int MAX_BODY_BYTES = 64 * 1024;
  private static final String STAGE = "decode";

  @Override
  public void process(Exchange exchange) {
    Enrollment enrollment = exchange.getProperty(Enrollment.PROPERTY, Enrollment.class);
    String contentType = exchange.getMessage().getHeader(Exchange.CONTENT_TYPE, String.class);
    // A body without Content-Type is still parsed strictly as JSON below, so it is accepted.
    if (contentType != null && !isJson(contentType)) {
      throw new MalformedRequestException(STAGE, "Content-Type "
          + excerpt(contentType) + " is not supported: send application/json");
    }
    byte[] body = exchange.getMessage().getBody(byte[].class);
    if (body == null || body.length == 0) {
      throw new MalformedRequestException(STAGE, "request body is empty: send JSON with csr"
          + " and ott");
    }
    if (body.length > MAX_BODY_BYTES) {
      throw new MalformedRequestException(STAGE, "request body of " + body.length
          + " bytes exceeds the limit of " + MAX_BODY_BYTES + " bytes");
    }
    JsonNode json;
    try {
      json = Json.MAPPER.readTree(body);
    } catch (IOException e) {
      throw new MalformedRequestException(STAGE, "request body is not valid JSON");
    }
    if (json == null || !json.isObject()) {
      throw new MalformedRequestException(STAGE, "request body must be a JSON object");
    }
    enrollment.csrPem = requiredText(json, "csr");
    enrollment.ott = requiredText(json, "ott");
    enrollment.notBefore = time(json, "notBefore", enrollment.receivedAt);
    enrollment.notAfter = time(json, "notAfter", enrollment.receivedAt);
    enrollment.provisionerName = optionalText(json, "provisioner");
    enrollment.attestedDocument = optionalText(json, "attestedDocument");
    enrollment.csr = CertificateRequest.parse(enrollment.csrPem, STAGE);
    enrollment.requestBody = body;
    exchange.getMessage().setBody(null);
  }

  /**
   * Reads the {@code csr} field of a JSON body, as {@code /1.0/rekey} sends it.
   *
   * @throws MalformedRequestException if the body is not JSON with a csr string
   */
  static String csrField(byte[] body) {
    if (body == null || body.length == 0 || body.length > MAX_BODY_BYTES) {
      throw new MalformedRequestException(STAGE, "request body must be JSON with a csr of at"
          + " most " + MAX_BODY_BYTES + " bytes");
    }
    try {
      return requiredText(Json.MAPPER.readTree(body), "csr");
    } catch (IOException e) {
      throw new MalformedRequestException(STAGE, "request body is not valid JSON");
    }
  }

  private static String requiredText(JsonNode json, String field) {
    JsonNode node = json.get(field);
    if (node == null || !node.isTextual() || node.asText().isBlank()) {
      throw new MalformedRequestException(STAGE, "field " + field + " is missing or not a"
          + " string");
    }
    return node.asText();
  }

  private static String optionalText(JsonNode json, String field) {
    JsonNode node = json.get(field);
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isTextual() || node.asText().isBlank()) {
      throw new MalformedRequestException(STAGE, "field " + field + " must be a non-empty"
          + " string when present");
    }
    return node.asText();
  }

  /**
   * Returns whether the media type is exactly {@code application/json} (RFC 8259, 11), in any
   * case and with any parameters, such as {@code ; charset=utf-8}.
   */
  static boolean isJson(String contentType) {
    int semicolon = contentType.indexOf(';');
    String mediaType = semicolon < 0 ? contentType : contentType.substring(0, semicolon);
    return mediaType.strip().equalsIgnoreCase("application/json");
  }

  /**
   * Reads a time as RFC 3339 with a Z offset, or as a duration added to {@code now}, the time
   * the request was received. Policy measures the lifetime from the same instant.
   */
  private static Instant time(JsonNode json, String field, Instant now) {
    JsonNode node = json.get(field);
    if (node == null || node.isNull() || (node.isTextual() && node.asText().isEmpty())) {
      return null;
    }
    if (!node.isTextual()) {
      throw new MalformedRequestException(STAGE, "field " + field + " must be a string: an"
          + " RFC 3339 time or a duration such as 24h");
    }
    String text = node.asText();
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      Duration duration;
      try {
        duration = Durations.parse(text);
      } catch (IllegalArgumentException notDuration) {
        throw new MalformedRequestException(STAGE, "field " + field + " value '"
            + excerpt(text) + "' is neither an RFC 3339 time nor a duration");
      }
      try {
        return now.plus(duration);
      } catch (DateTimeException | ArithmeticException beyondRange) {
        throw new MalformedRequestException(STAGE, "field " + field + " value '"
            + excerpt(text) + "' is a duration too long to add to the request time: request"
            + " a lifetime within the provisioner's limits");
      }
    }
  }

  /** Returns request text fit for a message: no line breaks, at most 64 characters. */
  private static String excerpt(String text) {
    String clean = text.replaceAll("[\\r\\n]", "");
    return clean.length() <= 64 ? clean
        : clean.substring(0, 64) + "... (" + clean.length() + " characters)";
  }
}
