package io.iidca.routes.client;

import io.iidca.ca.config.Durations;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;

/**
 * When to renew a certificate and when to retry a failed renewal. Pure arithmetic on instants:
 * no clock, no randomness and no sleeping, so callers pass the current time and the random
 * jitter. Immutable and thread-safe.
 *
 * <p>The renewal point is two thirds into the certificate's lifetime, the default of
 * {@code step ca renew --daemon} (https://smallstep.com/docs/step-cli/reference/ca/renew/), or,
 * with {@code expiresIn}, that long before {@code notAfter}. The lifetime starts at
 * {@code notBefore}, or later at the time the holder obtained the certificate when that is
 * known. The CA backdates {@code notBefore} by one minute,
 * so for a 30-second certificate two thirds of the nominal 90-second validity would fall on the
 * very moment of issuance, and a daemon would renew without pause.
 *
 * <p>A daemon moves the point earlier by a random jitter of up to 1/20 of the lifetime, so that
 * instances enrolled at the same moment do not renew in lockstep. Failed renewals are retried
 * after 1 s, doubling up to 5 min, and never later than halfway to {@code notAfter} while more
 * than 2 s of validity remain.
 */
public final class RenewalSchedule {

  /** The delay after the first failed attempt. */
  public static final Duration FIRST_RETRY = Duration.ofSeconds(1);
  /** The maximum delay between two attempts, reached after nine failures in a row. */
  public static final Duration MAX_RETRY = Duration.ofMinutes(5);
  /** The jitter is at most this fraction of the lifetime: 1/20. */
  static final int JITTER_DIVISOR = 20;

  private final Duration expiresIn;

  private RenewalSchedule(Duration expiresIn) {
    this.expiresIn = expiresIn;
  }

  /** Renews two thirds into the lifetime. */
  public static RenewalSchedule twoThirds() {
    return new RenewalSchedule(null);
  }

  /**
   * Renews when the certificate expires within {@code expiresIn}.
   *
   * @throws IllegalArgumentException if {@code expiresIn} is zero or negative
   */
  public static RenewalSchedule expiresWithin(Duration expiresIn) {
    if (expiresIn.isZero() || expiresIn.isNegative()) {
      throw new IllegalArgumentException("--expires-in " + Durations.format(expiresIn)
          + " is invalid: it must be positive, such as 8h");
    }
    return new RenewalSchedule(expiresIn);
  }

  /**
   * The validity of a held certificate.
   *
   * @param obtainedAt when the holder received it, or null when unknown (a certificate found
   *     on disk); it replaces {@code notBefore} as the start of the lifetime
   */
  public record Validity(Instant notBefore, Instant notAfter, Instant obtainedAt) {

    public static Validity of(X509Certificate certificate, Instant obtainedAt) {
      return new Validity(certificate.getNotBefore().toInstant(),
          certificate.getNotAfter().toInstant(), obtainedAt);
    }

    /** Returns the start of the lifetime: obtainedAt within the validity, else notBefore. */
    public Instant start() {
      if (obtainedAt == null || obtainedAt.isBefore(notBefore)) {
        return notBefore;
      }
      return obtainedAt.isAfter(notAfter) ? notAfter : obtainedAt;
    }

    /** Returns the time from {@link #start()} to {@code notAfter}, at least zero. */
    public Duration lifetime() {
      Duration lifetime = Duration.between(start(), notAfter);
      return lifetime.isNegative() ? Duration.ZERO : lifetime;
    }
  }

  /** Returns the renewal point without jitter. */
  public Instant renewalPoint(Validity validity) {
    if (expiresIn != null) {
      return validity.notAfter().minus(expiresIn);
    }
    return validity.start().plus(validity.lifetime().multipliedBy(2).dividedBy(3));
  }

  /** Returns whether {@code now} is at or past the renewal point, without jitter. */
  public boolean isDue(Validity validity, Instant now) {
    return !now.isBefore(renewalPoint(validity));
  }

  /**
   * Returns the renewal point moved earlier by {@code jitter} times 1/20 of the lifetime. The
   * jitter never moves it back more than halfway from the renewal point to the start of the
   * lifetime, which only matters when {@code expiresIn} is above 90% of the lifetime.
   *
   * @param jitter a random number in [0, 1)
   * @throws IllegalArgumentException if jitter is outside [0, 1)
   */
  public Instant jitteredPoint(Validity validity, double jitter) {
    if (!(jitter >= 0 && jitter < 1)) {
      throw new IllegalArgumentException("jitter " + jitter + " is outside [0, 1)");
    }
    Instant point = renewalPoint(validity);
    Duration maxJitter = validity.lifetime().dividedBy(JITTER_DIVISOR);
    Duration halfwayToStart = Duration.between(validity.start(), point).dividedBy(2);
    if (halfwayToStart.isNegative()) {
      halfwayToStart = Duration.ZERO;
    }
    if (maxJitter.compareTo(halfwayToStart) > 0) {
      maxJitter = halfwayToStart;
    }
    long jitterNanos = (long) (maxJitter.toNanos() * jitter);
    return point.minusNanos(jitterNanos);
  }

  /**
   * Returns when to retry after {@code failures} failed attempts in a row, the last one ending
   * at {@code now}. The delay is {@link #FIRST_RETRY} doubled per earlier failure, at most
   * {@link #MAX_RETRY}. While more than twice {@link #FIRST_RETRY} remain before
   * {@code notAfter}, the delay is also at most half the remaining time, so the retry lands
   * before expiry. With less left, or once expired, only the doubling applies: a provisioner
   * may allow renewal after expiry, and an operator may enroll the instance again.
   *
   * @param notAfter the expiry of the held certificate, or null when it could not be read
   * @throws IllegalArgumentException if failures is below 1
   */
  public static Instant retryAt(Instant now, int failures, Instant notAfter) {
    if (failures < 1) {
      throw new IllegalArgumentException("failures " + failures + " must be at least 1");
    }
    Duration delay = backoff(failures);
    if (notAfter != null) {
      Duration remaining = Duration.between(now, notAfter);
      if (remaining.compareTo(FIRST_RETRY.multipliedBy(2)) > 0) {
        Duration half = remaining.dividedBy(2);
        if (delay.compareTo(half) > 0) {
          delay = half;
        }
      }
    }
    return now.plus(delay);
  }

  /** Returns {@link #FIRST_RETRY} times 2^(failures - 1), at most {@link #MAX_RETRY}. */
  static Duration backoff(int failures) {
    Duration delay = FIRST_RETRY;
    for (int i = 1; i < failures && delay.compareTo(MAX_RETRY) < 0; i++) {
      delay = delay.multipliedBy(2);
    }
    return delay.compareTo(MAX_RETRY) > 0 ? MAX_RETRY : delay;
  }

  /**
   * Describes the rule for messages of the form "the certificate is renewed ...", such as
   * {@code at two thirds of its lifetime}.
   */
  public String describe() {
    return expiresIn == null ? "at two thirds of its lifetime"
        : "when it expires within " + Durations.format(expiresIn);
  }
}
