package io.iidca.ca.config;

import java.time.Duration;

/**
 * The validity bounds of issued certificates: the default applies when a request names none, and
 * a request outside min..max is denied.
 */
public record Lifetime(Duration defaultDuration, Duration min, Duration max) {

  /** 24 hours by default, at least 5 minutes, at most 24 hours. */
  public static final Lifetime DEFAULT =
      new Lifetime(Duration.ofHours(24), Duration.ofMinutes(5), Duration.ofHours(24));

  /**
   * Validates the bounds.
   *
   * @throws ConfigException naming the key and the values
   */
  public Lifetime validate(String key) {
    if (min.isNegative() || min.isZero()) {
      throw new ConfigException(key + ".min", Durations.format(min), "must be positive");
    }
    if (min.compareTo(max) > 0) {
      throw new ConfigException(key + ".min", Durations.format(min),
          "must not exceed max " + Durations.format(max));
    }
    if (defaultDuration.compareTo(min) < 0 || defaultDuration.compareTo(max) > 0) {
      throw new ConfigException(key + ".default", Durations.format(defaultDuration),
          "must lie between min " + Durations.format(min) + " and max " + Durations.format(max));
    }
    return this;
  }
}
