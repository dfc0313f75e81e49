package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link AuditLog#format}: one line of {@code key=value} pairs whatever a request puts in a
 * value, and no value longer than {@link AuditLog#MAX_VALUE_LENGTH} characters plus a marker.
 */
class AuditLogTest {

  static String line(String key, Object value) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("event", "sign");
    fields.put(key, value);
    return AuditLog.format(fields);
  }

  @Test
  void plainValuesAreBare() {
    assertThat(line("subject", "app.internal")).isEqualTo("event=sign subject=app.internal");
  }

  @Test
  void longSubjectIsTruncatedAndMarked() {
    String subject = "x".repeat(1100) + "@example.com";

    assertThat(line("subject", subject)).isEqualTo("event=sign subject=\""
        + "x".repeat(256) + "...(truncated from 1112 characters)\"");
  }

  @Test
  void valueOfExactlyTheLimitIsKept() {
    assertThat(line("subject", "y".repeat(256)))
        .isEqualTo("event=sign subject=" + "y".repeat(256));
  }

  @Test
  void lineBreaksAndControlsAreEscaped() {
    assertThat(line("reason", "a\r\nevent=forged\0\033[31m"))
        .isEqualTo("event=sign reason=\"a\\r\\nevent=forged\\u0000\\u001b[31m\"");
  }

  @Test
  void lineFeedBetweenNamesStaysVisible() {
    assertThat(line("subject", "foo.local\nbar.local"))
        .isEqualTo("event=sign subject=\"foo.local\\nbar.local\"");
  }

  @Test
  void valueHelperEscapesLineBreaks() {
    assertThat(AuditLog.value("expired\r\nforged")).isEqualTo("\"expired\\r\\nforged\"");
  }

  @Test
  void quotesAndBackslashesAreEscaped() {
    assertThat(line("subject", "a\"b\\c")).isEqualTo("event=sign subject=\"a\\\"b\\\\c\"");
  }
}
