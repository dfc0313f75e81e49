package io.iidca.testkit.aws;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * IMDSv2 session tokens: random opaque strings, each valid until its TTL elapses. Thread-safe.
 */
final class ImdsTokens {

  /** Smallest TTL that EC2 accepts in {@code X-aws-ec2-metadata-token-ttl-seconds}. */
  static final int MIN_TTL_SECONDS = 1;
  /** Largest TTL that EC2 accepts: six hours. */
  static final int MAX_TTL_SECONDS = 21_600;

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int TOKEN_BYTES = 42;

  private final Clock clock;
  private final Map<String, Instant> expiries = new ConcurrentHashMap<>();

  ImdsTokens(Clock clock) {
    this.clock = clock;
  }

  /** Issues a token valid for {@code ttlSeconds}, within the EC2 bounds. */
  String issue(int ttlSeconds) {
    if (ttlSeconds < MIN_TTL_SECONDS || ttlSeconds > MAX_TTL_SECONDS) {
      throw new IllegalArgumentException("TTL " + ttlSeconds + " s is out of range");
    }
    Instant now = clock.instant();
    expiries.values().removeIf(expiry -> !expiry.isAfter(now));
    byte[] bytes = new byte[TOKEN_BYTES];
    RANDOM.nextBytes(bytes);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    expiries.put(token, now.plus(Duration.ofSeconds(ttlSeconds)));
    return token;
  }

  /** Returns whether the token was issued here and its TTL has not yet elapsed. */
  boolean isValid(String token) {
    Instant expiry = expiries.get(token);
    return expiry != null && expiry.isAfter(clock.instant());
  }
}
