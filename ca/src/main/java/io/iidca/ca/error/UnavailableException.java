package io.iidca.ca.error;

import java.time.Duration;

/**
 * A provider or the store is unavailable, so the request can be retried (HTTP 503). The
 * response's {@code Retry-After} gives the delay: {@link #DEFAULT_RETRY_AFTER}, unless the
 * thrower sets its own, such as a key cache that waits between fetches.
 */
public final class UnavailableException extends IidcaException {

  public static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(5);

  private final Duration retryAfter;

  public UnavailableException(String stage, String reason) {
    this(stage, reason, null, DEFAULT_RETRY_AFTER);
  }

  public UnavailableException(String stage, String reason, Throwable cause) {
    this(stage, reason, cause, DEFAULT_RETRY_AFTER);
  }

  public UnavailableException(String stage, String reason, Throwable cause,
      Duration retryAfter) {
    super(stage, reason, cause);
    this.retryAfter = retryAfter;
  }

  /** Returns the whole seconds a client should wait before it retries, at least one. */
  public long retryAfterSeconds() {
    long seconds = retryAfter.toSeconds() + (retryAfter.toNanosPart() > 0 ? 1 : 0);
    return Math.max(1, seconds);
  }

  @Override
  public int status() {
    return 503;
  }

  @Override
  public String publicMessage() {
    return "The CA cannot serve this request right now; retry later.";
  }
}
