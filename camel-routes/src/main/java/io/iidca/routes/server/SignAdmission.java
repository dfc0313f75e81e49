package io.iidca.routes.server;

import io.iidca.ca.error.ThrottledException;
import io.vertx.core.Handler;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admission control for the requests that sign a certificate ({@code POST /sign},
 * {@code /renew} and {@code /rekey}, with and without {@code /1.0}). At most
 * {@link #maxInFlight()} of them run at once. A request beyond that gets 429 Too Many Requests
 * with {@code Retry-After} (RFC 6585, 4; RFC 9110, 10.2.3) before its body is read. A boot
 * storm then waits at the clients instead of in the CA's queues, which bounds the latency of
 * the admitted requests.
 *
 * <p>A request counts from when its headers arrive until its response ends or its connection
 * closes. Rejections are logged at most once per 10 seconds, with their count.
 *
 * <p>Thread-safe: the counters are atomic, and Vert.x calls the handler on event-loop threads.
 */
final class SignAdmission implements Handler<RoutingContext> {

  /**
   * Signing requests admitted per available processor. At the 1.5 to 3.5 ms of CPU per
   * certificate that {@code bench/run} measured, a core completes this many in 50 to 110 ms.
   *
   * <p>NOTE: an estimate from one 2-core machine, not a tuned value.
   */
  static final int IN_FLIGHT_PER_PROCESSOR = 32;
  /** Seconds a rejected client waits, the smallest value that Retry-After can express. */
  static final int RETRY_AFTER_SECONDS = 1;
  static final List<String> PATHS = List.of("/sign", "/renew", "/rekey", "/1.0/sign",
      "/1.0/renew", "/1.0/rekey");

  /** step-ca's error body, with the public message of a ThrottledException. */
  private static final String REJECTION_BODY = Json.write(rejectionBody());
  private static final Logger LOG = LoggerFactory.getLogger(SignAdmission.class);
  private static final long LOG_INTERVAL_NANOS = 10_000_000_000L;

  private final int maxInFlight;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong rejectedSinceLog = new AtomicLong();
  private final AtomicLong lastLogNanos =
      new AtomicLong(System.nanoTime() - LOG_INTERVAL_NANOS);

  SignAdmission(int maxInFlight) {
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight must be at least 1, got " + maxInFlight);
    }
    this.maxInFlight = maxInFlight;
  }

  /** Returns admission control sized for this machine's available processors. */
  static SignAdmission forAvailableProcessors() {
    return new SignAdmission(IN_FLIGHT_PER_PROCESSOR
        * Runtime.getRuntime().availableProcessors());
  }

  /** Installs this handler in front of the signing routes, so call it before adding them. */
  void install(Router router) {
    for (String path : PATHS) {
      router.post(path).handler(this);
    }
  }

  int maxInFlight() {
    return maxInFlight;
  }

  int inFlight() {
    return inFlight.get();
  }

  @Override
  public void handle(RoutingContext context) {
    if (inFlight.incrementAndGet() > maxInFlight) {
      inFlight.decrementAndGet();
      reject(context);
      return;
    }
    AtomicInteger released = new AtomicInteger();
    // The end handler runs when the response ends or the connection closes first.
    context.addEndHandler(ignored -> {
      if (released.getAndIncrement() == 0) {
        inFlight.decrementAndGet();
      }
    });
    context.next();
  }

  private void reject(RoutingContext context) {
    logRejection();
    context.response().setStatusCode(429)
        .putHeader("Content-Type", "application/json")
        .putHeader("Retry-After", String.valueOf(RETRY_AFTER_SECONDS))
        .end(REJECTION_BODY);
  }

  private static Map<String, Object> rejectionBody() {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("status", 429);
    body.put("message", new ThrottledException("admission", "").publicMessage());
    return body;
  }

  private void logRejection() {
    rejectedSinceLog.incrementAndGet();
    long now = System.nanoTime();
    long last = lastLogNanos.get();
    if (now - last >= LOG_INTERVAL_NANOS && lastLogNanos.compareAndSet(last, now)) {
      LOG.warn("admission: rejected {} signing requests with 429 since the last report, because"
          + " the limit of {} requests in flight was reached", rejectedSinceLog.getAndSet(0),
          maxInFlight);
    }
  }
}
