package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.routes.client.RenewalSchedule.Validity;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The renewal point, its jitter and the retry backoff, on fixed instants. */
class RenewalScheduleTest {

  static final Instant NOT_BEFORE = Instant.parse("2025-01-01T00:00:00Z");
  /** A 24-hour certificate: two thirds is 16 h, 1/20 is 72 min. */
  static final Validity DAY = new Validity(NOT_BEFORE, NOT_BEFORE.plus(Duration.ofHours(24)),
      null);

  @ParameterizedTest(name = "{0} after notBefore: due {1}")
  @CsvSource({
      "PT0S, false",
      "PT15H59M59.999999999S, false",
      "PT16H, true",
      "PT23H, true",
      "PT25H, true",
  })
  void twoThirdsWindow(Duration sinceNotBefore, boolean due) {
    assertThat(RenewalSchedule.twoThirds().isDue(DAY, NOT_BEFORE.plus(sinceNotBefore)))
        .isEqualTo(due);
  }

  @ParameterizedTest(name = "expires in {0}, {1} after notBefore: due {2}")
  @CsvSource({
      "PT8H, PT15H59M59S, false",
      "PT8H, PT16H, true",
      "PT1H, PT16H, false",
      "PT1H, PT23H, true",
      "PT24H, PT0S, true",
      "PT30H, PT0S, true",
  })
  void expiresInWindow(Duration expiresIn, Duration sinceNotBefore, boolean due) {
    RenewalSchedule schedule = RenewalSchedule.expiresWithin(expiresIn);

    assertThat(schedule.isDue(DAY, NOT_BEFORE.plus(sinceNotBefore))).isEqualTo(due);
    assertThat(schedule.renewalPoint(DAY)).isEqualTo(DAY.notAfter().minus(expiresIn));
  }

  @Test
  void expiresInMustBePositive() {
    assertThatThrownBy(() -> RenewalSchedule.expiresWithin(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--expires-in 0s");
  }

  @Test
  void backdatedCertificateCountsFromObtainedAt() {
    // What the CA returns for notAfter 30s: notBefore backdated by one minute.
    Instant obtained = NOT_BEFORE.plusSeconds(60);
    Validity known = new Validity(NOT_BEFORE, obtained.plusSeconds(30), obtained);
    Validity unknown = new Validity(NOT_BEFORE, obtained.plusSeconds(30), null);

    assertThat(RenewalSchedule.twoThirds().renewalPoint(known))
        .isEqualTo(obtained.plusSeconds(20));
    assertThat(RenewalSchedule.twoThirds().renewalPoint(unknown)).isEqualTo(obtained);
  }

  @ParameterizedTest(name = "obtained {0} after notBefore starts at {1}")
  @CsvSource({
      "-PT1H, PT0S",
      "PT0S, PT0S",
      "PT6H, PT6H",
      "PT24H, PT24H",
      "PT30H, PT24H",
  })
  void obtainedAtIsClampedToValidity(Duration obtainedOffset, Duration startOffset) {
    Validity validity = new Validity(DAY.notBefore(), DAY.notAfter(),
        NOT_BEFORE.plus(obtainedOffset));

    assertThat(validity.start()).isEqualTo(NOT_BEFORE.plus(startOffset));
    assertThat(validity.lifetime()).isEqualTo(Duration.ofHours(24).minus(startOffset));
  }

  @ParameterizedTest(name = "jitter {0}")
  @CsvSource({"0.0", "0.25", "0.5", "0.999999999"})
  void jitterStaysWithinOneTwentiethOfLifetime(double jitter) {
    Instant point = RenewalSchedule.twoThirds().renewalPoint(DAY);

    Instant jittered = RenewalSchedule.twoThirds().jitteredPoint(DAY, jitter);

    assertThat(jittered).isBeforeOrEqualTo(point);
    assertThat(jittered).isAfter(point.minus(Duration.ofMinutes(72)));
    assertThat(Duration.between(jittered, point))
        .isEqualTo(Duration.ofNanos((long) (Duration.ofMinutes(72).toNanos() * jitter)));
  }

  @Test
  void jitterNeverPassesHalfwayToStart() {
    // Renewal point 30 min after notBefore; the full jitter of 72 min would precede it.
    RenewalSchedule schedule = RenewalSchedule.expiresWithin(Duration.ofMinutes(23 * 60 + 30));

    Instant jittered = schedule.jitteredPoint(DAY, 0.999999999);

    assertThat(jittered).isAfterOrEqualTo(NOT_BEFORE.plus(Duration.ofMinutes(15)));
    assertThat(jittered).isBefore(NOT_BEFORE.plus(Duration.ofMinutes(30)));
  }

  @ParameterizedTest(name = "jitter {0} is rejected")
  @CsvSource({"-0.1", "1.0", "NaN"})
  void jitterOutsideUnitIntervalIsRejected(double jitter) {
    assertThatThrownBy(() -> RenewalSchedule.twoThirds().jitteredPoint(DAY, jitter))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("outside [0, 1)");
  }

  @ParameterizedTest(name = "failure {0} waits {1}")
  @CsvSource({
      "1, PT1S",
      "2, PT2S",
      "3, PT4S",
      "8, PT2M8S",
      "9, PT4M16S",
      "10, PT5M",
      "11, PT5M",
      "1000, PT5M",
      "2147483647, PT5M",
  })
  void backoffDoublesUpToFiveMinutes(int failures, Duration delay) {
    Instant now = NOT_BEFORE.plus(Duration.ofHours(16));

    assertThat(RenewalSchedule.retryAt(now, failures, DAY.notAfter()))
        .isEqualTo(now.plus(delay));
  }

  @ParameterizedTest(name = "{1} before expiry, failure {0}: retry after {2}")
  @CsvSource({
      "10, PT10M, PT5M",
      "10, PT6M, PT3M",
      "9, PT3M, PT1M30S",
      "1, PT3S, PT1S",
      "5, PT3S, PT1.5S",
      "5, PT2.000000002S, PT1.000000001S",
  })
  void retryLandsBeforeExpiry(int failures, Duration remaining, Duration delay) {
    Instant now = DAY.notAfter().minus(remaining);

    Instant retry = RenewalSchedule.retryAt(now, failures, DAY.notAfter());

    assertThat(retry).isEqualTo(now.plus(delay));
    assertThat(retry).isBefore(DAY.notAfter());
  }

  @ParameterizedTest(name = "{1} before expiry, failure {0}: plain backoff {2}")
  @CsvSource({
      "5, PT2S, PT16S",
      "5, PT0S, PT16S",
      "10, -PT1H, PT5M",
  })
  void nearOrPastExpiryBackoffAlone(int failures, Duration remaining, Duration delay) {
    Instant now = DAY.notAfter().minus(remaining);

    assertThat(RenewalSchedule.retryAt(now, failures, DAY.notAfter()))
        .isEqualTo(now.plus(delay));
  }

  @Test
  void unknownExpiryUsesBackoffAlone() {
    assertThat(RenewalSchedule.retryAt(NOT_BEFORE, 4, null))
        .isEqualTo(NOT_BEFORE.plusSeconds(8));
  }

  @Test
  void retryNeedsAFailure() {
    assertThatThrownBy(() -> RenewalSchedule.retryAt(NOT_BEFORE, 0, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("failures 0");
  }

  @Test
  void retriesBeforeExpiryStayBeforeExpiry() {
    // Every failure, from the renewal point until 2 s before expiry, retries before expiry.
    Instant now = RenewalSchedule.twoThirds().renewalPoint(DAY);
    int failures = 0;
    while (Duration.between(now, DAY.notAfter()).compareTo(Duration.ofSeconds(2)) > 0) {
      failures++;
      Instant retry = RenewalSchedule.retryAt(now, failures, DAY.notAfter());
      assertThat(retry).as("failure %d at %s", failures, now).isBefore(DAY.notAfter());
      assertThat(retry).as("failure %d at %s", failures, now).isAfter(now);
      now = retry;
    }
    assertThat(failures).isBetween(10, 1000);
  }
}
