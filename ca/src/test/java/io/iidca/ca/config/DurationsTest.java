package io.iidca.ca.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link Durations}: the Go-style and ISO-8601 forms it reads, and the form it writes. */
class DurationsTest {

  static Stream<Arguments> validTexts() {
    return Stream.of(
        Arguments.of("24h", Duration.ofHours(24)),
        Arguments.of("5m", Duration.ofMinutes(5)),
        Arguments.of("90s", Duration.ofSeconds(90)),
        Arguments.of("1h30m", Duration.ofMinutes(90)),
        Arguments.of("250ms", Duration.ofMillis(250)),
        Arguments.of("2d", Duration.ofDays(2)),
        Arguments.of("1d2h3m4s", Duration.ofSeconds(93_784)),
        Arguments.of("0s", Duration.ZERO),
        Arguments.of(" 24h ", Duration.ofHours(24)),
        Arguments.of("24H", Duration.ofHours(24)),
        Arguments.of("PT24H", Duration.ofHours(24)),
        Arguments.of("pt5m", Duration.ofMinutes(5)),
        Arguments.of("P1D", Duration.ofDays(1)),
        Arguments.of("1s500ms", Duration.ofMillis(1500)),
        Arguments.of("1ms1us1ns", Duration.ofNanos(1_001_001)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validTexts")
  void parseReadsOperatorForms(String text, Duration expected) {
    assertThat(Durations.parse(text)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "''{0}''")
  @ValueSource(strings = {"", " ", "h", "24", "1.5h", "-5m", "+5m", "1h 30m", "24hours", "5x",
      "m5", "1h30", "P", "PT", "PTXH", "24h;"})
  void parseRejectsInvalidTextNamingIt(String text) {
    assertThatThrownBy(() -> Durations.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("invalid duration '" + text
            + "': use a number with a unit, such as 24h, 5m, 90s or 1h30m");
  }

  /** Values too large for a {@link Duration} are invalid input, not an arithmetic failure. */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"106751991167301d", "9223372036854775807h",
      "99999999999999999999s", "9223372036854775807s9223372036854775807s",
      "9223372036854775807us", "PT9999999999999999999H"})
  void parseRejectsOverflowAsInvalid(String text) {
    assertThatThrownBy(() -> Durations.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("invalid duration '" + text + "'");
  }

  /** Go-style negatives are malformed; an ISO-8601 negative parses but is not allowed. */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"PT-5M", "-PT5M", "PT5M-6M"})
  void parseRejectsNegativeNamingIt(String text) {
    assertThatThrownBy(() -> Durations.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("invalid duration '" + text + "': ");
  }

  @Test
  void parseRejectsIsoNegativeAsNegative() {
    assertThatThrownBy(() -> Durations.parse("PT-5M"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("invalid duration 'PT-5M': a duration must not be negative");
  }

  static Stream<Arguments> formats() {
    return Stream.of(
        Arguments.of(Duration.ZERO, "0s"),
        Arguments.of(Duration.ofSeconds(1), "1s"),
        Arguments.of(Duration.ofMinutes(5), "5m"),
        Arguments.of(Duration.ofMinutes(90), "1h30m"),
        Arguments.of(Duration.ofHours(24), "24h"),
        Arguments.of(Duration.ofDays(2), "48h"),
        Arguments.of(Duration.ofSeconds(3_605), "1h5s"),
        Arguments.of(Duration.ofSeconds(93_784), "26h3m4s"),
        Arguments.of(Duration.ofMillis(1500), "1s500ms"),
        Arguments.of(Duration.ofMillis(250), "250ms"),
        Arguments.of(Duration.ofNanos(1_001_001), "1ms1us1ns"),
        Arguments.of(Duration.ofMinutes(-5), "-5m"),
        Arguments.of(Duration.ofMillis(-1500), "-1s500ms"));
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("formats")
  void formatWritesGoStyle(Duration duration, String expected) {
    assertThat(Durations.format(duration)).isEqualTo(expected);
  }

  /** Whatever format writes, parse reads back as the same duration. */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"0s", "1s", "59s", "5m", "1h30m", "24h", "48h", "26h3m4s", "1500ms",
      "250ms", "PT0.000000001S", "PT1.5S", "1d1ns"})
  void formatThenParseKeepsDuration(String text) {
    Duration duration = Durations.parse(text);

    assertThat(Durations.parse(Durations.format(duration))).isEqualTo(duration);
  }

  @Test
  void parseSumsRepeatedUnits() {
    assertThat(Durations.parse("1h1h")).isEqualTo(Duration.ofHours(2));
  }
}
