package io.iidca.ca.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses and formats durations as operators write them: Go-style {@code 24h}, {@code 5m},
 * {@code 90s}, {@code 1h30m}, {@code 1500ms}, or ISO-8601 {@code PT24H}. Negative durations and
 * durations beyond the range of {@link Duration} are invalid.
 */
public final class Durations {

  private static final Pattern PART = Pattern.compile("(\\d+)(ms|us|ns|h|m|s|d)");

  private Durations() {}

  /**
   * Parses a duration.
   *
   * @throws IllegalArgumentException naming the text and the accepted forms
   */
  public static Duration parse(String text) {
    String trimmed = text.trim().toLowerCase(Locale.ROOT);
    Duration duration;
    try {
      duration = trimmed.startsWith("p") ? parseIso(trimmed) : parseGo(trimmed);
    } catch (ArithmeticException | NumberFormatException | DateTimeParseException e) {
      // Numbers too large for a long, or sums beyond the range of Duration.
      throw invalid(text);
    }
    if (duration == null) {
      throw invalid(text);
    }
    if (duration.isNegative()) {
      throw new IllegalArgumentException("invalid duration '" + text
          + "': a duration must not be negative");
    }
    return duration;
  }

  private static Duration parseIso(String trimmed) {
    return Duration.parse(trimmed.toUpperCase(Locale.ROOT));
  }

  /** Returns the sum of the parts, or null when the text is not a sequence of parts. */
  private static Duration parseGo(String trimmed) {
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
        case "ms" -> Duration.ofMillis(amount);
        case "us" -> Duration.ofNanos(Math.multiplyExact(amount, 1000L));
        default -> Duration.ofNanos(amount);
      });
      end = matcher.end();
    }
    return end == 0 || end != trimmed.length() ? null : total;
  }

  /**
   * Formats a duration in the Go style that {@link #parse} reads, such as {@code 1h30m} or
   * {@code 1s500ms}. A negative duration is written with a leading minus sign, such as
   * {@code -5m}, for messages; {@link #parse} rejects that form.
   */
  public static String format(Duration duration) {
    if (duration.isZero()) {
      return "0s";
    }
    if (duration.isNegative()) {
      return "-" + format(duration.negated());
    }
    StringBuilder text = new StringBuilder();
    append(text, duration.toHours(), "h");
    append(text, duration.toMinutesPart(), "m");
    append(text, duration.toSecondsPart(), "s");
    int nanos = duration.toNanosPart();
    append(text, nanos / 1_000_000, "ms");
    append(text, nanos / 1_000 % 1_000, "us");
    append(text, nanos % 1_000, "ns");
    return text.toString();
  }

  private static void append(StringBuilder text, long amount, String unit) {
    if (amount > 0) {
      text.append(amount).append(unit);
    }
  }

  private static IllegalArgumentException invalid(String text) {
    return new IllegalArgumentException("invalid duration '" + text
        + "': use a number with a unit, such as 24h, 5m, 90s or 1h30m");
  }
}
