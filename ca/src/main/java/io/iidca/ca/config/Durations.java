package io.iidca.ca.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses and formats durations as operators write them: Go-style {@code 24h}, {@code 5m},
 * {@code 90s}, {@code 1h30m}, or ISO-8601 {@code PT24H}.
 */
public final class Durations {

  private static final Pattern PART = Pattern.compile("(\\d+)(ms|h|m|s|d)");

  private Durations() {}

  /**
   * Parses a duration.
   *
   * @throws IllegalArgumentException naming the text and the accepted forms
   */
  public static Duration parse(String text) {
    String trimmed = text.trim().toLowerCase(Locale.ROOT);
    if (trimmed.startsWith("pt") || trimmed.startsWith("p")) {
      try {
        return Duration.parse(trimmed.toUpperCase(Locale.ROOT));
      } catch (DateTimeParseException e) {
        throw invalid(text);
      }
    }
    Matcher matcher = PART.matcher(trimmed);
    Duration total = Duration.ZERO;
    int end = 0;
    while (matcher.find() && matcher.start() == end) {
      long amount = Long.parseLong(matcher.group(1));
      total = total.plus(switch (matcher.group(2)) {
        case "d" -> Duration.ofDays(amount);
        case "h" -> Duration.ofHours(amount);
        case "m" -> Duration.ofMinutes(amount);
        case "s" -> Duration.ofSeconds(amount);
        default -> Duration.ofMillis(amount);
      });
      end = matcher.end();
    }
    if (end == 0 || end != trimmed.length()) {
      throw invalid(text);
    }
    return total;
  }

  /** Formats a duration in the Go style that {@link #parse} reads, such as {@code 1h30m}. */
  public static String format(Duration duration) {
    if (duration.isZero()) {
      return "0s";
    }
    StringBuilder text = new StringBuilder();
    long hours = duration.toHours();
    int minutes = duration.toMinutesPart();
    int seconds = duration.toSecondsPart();
    if (hours > 0) {
      text.append(hours).append('h');
    }
    if (minutes > 0) {
      text.append(minutes).append('m');
    }
    if (seconds > 0 || text.length() == 0) {
      text.append(seconds).append('s');
    }
    return text.toString();
  }

  private static IllegalArgumentException invalid(String text) {
    return new IllegalArgumentException("invalid duration '" + text
        + "': use a number with a unit, such as 24h, 5m, 90s or 1h30m");
  }
}
