package io.iidca.ca.gcp;

import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Optional;

/**
 * Reads the freshness lifetime of a response from its caching headers, as RFC 9111, 4.2.1
 * computes it, minus the {@code Age} header (RFC 9111, 5.1). Stateless.
 */
final class CacheHeaders {

  private CacheHeaders() {}

  /**
   * Returns how long the response stays fresh from {@code now}, which may be zero or negative;
   * null when no header states it.
   */
  static Duration freshness(HttpHeaders headers, Instant now) {
    Duration lifetime = fromCacheControl(headers);
    if (lifetime == null) {
      lifetime = fromExpires(headers, now);
    }
    if (lifetime == null) {
      return null;
    }
    return lifetime.minus(age(headers));
  }

  private static Duration fromCacheControl(HttpHeaders headers) {
    Duration maxAge = null;
    for (String header : headers.allValues("Cache-Control")) {
      for (String directive : header.split(",")) {
        String lower = directive.trim().toLowerCase(Locale.ROOT);
        if (lower.equals("no-store") || lower.equals("no-cache")) {
          return Duration.ZERO;
        }
        if (lower.startsWith("max-age=") && lower.substring(8).matches("\\d{1,9}")) {
          maxAge = Duration.ofSeconds(Long.parseLong(lower.substring(8)));
        }
      }
    }
    return maxAge;
  }

  /** Reads {@code Expires}; an invalid date, such as {@code 0}, means expired (RFC 9111, 5.3). */
  private static Duration fromExpires(HttpHeaders headers, Instant now) {
    Optional<String> expires = headers.firstValue("Expires");
    if (expires.isEmpty()) {
      return null;
    }
    Instant expiry = parseDate(expires.get());
    if (expiry == null) {
      return Duration.ZERO;
    }
    Instant date = headers.firstValue("Date").map(CacheHeaders::parseDate).orElse(null);
    return Duration.between(date == null ? now : date, expiry);
  }

  private static Duration age(HttpHeaders headers) {
    String age = headers.firstValue("Age").orElse("").trim();
    return age.matches("\\d{1,9}") ? Duration.ofSeconds(Long.parseLong(age)) : Duration.ZERO;
  }

  private static Instant parseDate(String text) {
    try {
      return ZonedDateTime.parse(text.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
