package io.iidca.ca.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A UTC clock that does not move until a test moves it, so that tests reach expiry times and
 * cache lifetimes without waiting. Thread-safe: the instant is volatile, but {@link #advance}
 * from two threads at once may lose one of the moves.
 */
public final class MutableClock extends Clock {

  private volatile Instant now;

  /** Creates a clock that reads {@link Instant#now()} until it is moved. */
  public MutableClock() {
    this(Instant.now());
  }

  /** Creates a clock that reads {@code now} until it is moved. */
  public MutableClock(Instant now) {
    this.now = now;
  }

  /** Moves the clock forward by {@code duration}, or back when it is negative. */
  public void advance(Duration duration) {
    now = now.plus(duration);
  }

  /** Sets the clock to {@code instant}. */
  public void set(Instant instant) {
    now = instant;
  }

  @Override
  public Instant instant() {
    return now;
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  /** Returns this clock, because a test clock stays in UTC. */
  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
