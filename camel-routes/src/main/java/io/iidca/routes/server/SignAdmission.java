package io.iidca.routes.server;

import io.iidca.ca.error.ThrottledException;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admission control for the requests that sign a certificate ({@code POST /sign},
 * {@code /renew} and {@code /rekey}, with and without {@code /1.0}). At most
 * {@link #maxInFlight()} of them run at once. A request beyond that waits, in order of arrival,
 * for one of them to end: at most {@link #maxWaiting()} requests and for at most
 * {@link #maxWait()} each. A request that finds the line full, or is still in it when its wait
 * ends, gets 429 Too Many Requests with {@code Retry-After} (RFC 6585, 4; RFC 9110, 10.2.3),
 * and its body is not read. A boot storm then waits at the clients instead of in the CA's
 * queues, which bounds the latency of the admitted requests. The short line spares the CA a
 * new connection and the client a second request when a place frees within a second, which
 * is less than a client that got 429 would wait.
 *
 * <p>A request counts from when its headers arrive until its response ends or its connection
 * closes; a request whose connection closes while it waits leaves the line. Rejections are
 * logged at most once per 10 seconds, with their count.
 *
 * <p>Thread-safe: the count and the line change under this object's lock, and Vert.x calls
 * the handler on the event-loop threads of the connections.
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
  /**
   * The maximum wait of a request in line: as long as a rejected client would wait before it
   * tried again, so that waiting is never slower for the client than a 429.
   */
  static final Duration MAX_WAIT = Duration.ofSeconds(RETRY_AFTER_SECONDS);
  static final List<String> PATHS = List.of("/sign", "/renew", "/rekey", "/1.0/sign",
      "/1.0/renew", "/1.0/rekey");

  /** step-ca's error body, with the public message of a ThrottledException. */
  private static final String REJECTION_BODY = Json.write(rejectionBody());
  private static final Logger LOG = LoggerFactory.getLogger(SignAdmission.class);
  private static final long LOG_INTERVAL_NANOS = 10_000_000_000L;

  private final int maxInFlight;
  private final int maxWaiting;
  private final Duration maxWait;
  /** Guarded by this. */
  private int inFlight;
  /** Guarded by this. */
  private final ArrayDeque<Request> waiting = new ArrayDeque<>();
  private final AtomicLong rejectedSinceLog = new AtomicLong();
  private final AtomicLong lastLogNanos =
      new AtomicLong(System.nanoTime() - LOG_INTERVAL_NANOS);

  /**
   * @param maxInFlight the signing requests that may run at once, at least 1
   * @param maxWaiting the requests that may wait for a place, 0 for none
   * @param maxWait how long a request may wait, positive
   */
  SignAdmission(int maxInFlight, int maxWaiting, Duration maxWait) {
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight must be at least 1, got " + maxInFlight);
    }
    if (maxWaiting < 0) {
      throw new IllegalArgumentException("maxWaiting must not be negative, got " + maxWaiting);
    }
    if (maxWait.isNegative() || maxWait.isZero()) {
      throw new IllegalArgumentException("maxWait must be positive, got " + maxWait);
    }
    this.maxInFlight = maxInFlight;
    this.maxWaiting = maxWaiting;
    this.maxWait = maxWait;
  }

  /**
   * Returns admission control sized for this machine's available processors, with a line as
   * long as the limit: on 2 processors, 64 requests run and 64 more may wait up to 1 s.
   */
  static SignAdmission forAvailableProcessors() {
    int limit = IN_FLIGHT_PER_PROCESSOR * Runtime.getRuntime().availableProcessors();
    return new SignAdmission(limit, limit, MAX_WAIT);
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

  int maxWaiting() {
    return maxWaiting;
  }

  Duration maxWait() {
    return maxWait;
  }

  synchronized int inFlight() {
    return inFlight;
  }

  synchronized int waiting() {
    return waiting.size();
  }

  @Override
  public void handle(RoutingContext context) {
    Request request = new Request(context, Vertx.currentContext());
    State outcome;
    synchronized (this) {
      if (inFlight < maxInFlight) {
        inFlight++;
        request.state = State.ADMITTED;
      } else if (waiting.size() < maxWaiting) {
        waiting.addLast(request);
      } else {
        request.state = State.DONE;
      }
      outcome = request.state;
    }
    if (outcome == State.DONE) {
      reject(context);
      return;
    }
    // The end handler runs when the response ends or the connection closes first.
    context.addEndHandler(ignored -> end(request));
    if (outcome == State.ADMITTED) {
      context.next();
      return;
    }
    // Vert.x Web does not hold a body back for a later handler: paused, the body stays in
    // the connection until the body handler resumes it after admission.
    context.request().pause();
    long timer = context.vertx().setTimer(maxWait.toMillis(), id -> timeOut(request));
    request.timer = timer;
    synchronized (this) {
      if (request.state == State.WAITING) {
        return;
      }
    }
    // Admitted or ended before its timer existed.
    context.vertx().cancelTimer(timer);
  }

  /** Frees the place of an admitted request or takes a waiting one out of the line. */
  private void end(Request request) {
    Request next = null;
    synchronized (this) {
      if (request.state == State.WAITING) {
        waiting.remove(request);
      } else if (request.state == State.ADMITTED) {
        next = waiting.pollFirst();
        if (next == null) {
          inFlight--;
        } else {
          next.state = State.ADMITTED;
        }
      }
      request.state = State.DONE;
    }
    if (next != null) {
      admit(next);
    }
  }

  /**
   * Hands a freed place to a request from the line, on its own event loop.
   *
   * <p>NOTE: when the client closes its connection after this hand-over but before the route
   * starts, the end handler frees the place at once, so the route may run without one. Not
   * covered by a test.
   */
  private static void admit(Request request) {
    request.context.vertx().cancelTimer(request.timer);
    request.eventLoop.runOnContext(ignored -> request.context.next());
  }

  private void timeOut(Request request) {
    synchronized (this) {
      if (request.state != State.WAITING) {
        return;
      }
      waiting.remove(request);
      request.state = State.DONE;
    }
    // The unread body is discarded, so that the connection can carry the next request.
    request.context.request().resume();
    reject(request.context);
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

  private enum State { WAITING, ADMITTED, DONE }

  /** One signing request, from its headers to its end. */
  private static final class Request {
    final RoutingContext context;
    /** The context of the request's connection, on whose event loop the routes must run. */
    final Context eventLoop;
    /** Guarded by the admission's lock. */
    State state = State.WAITING;
    /** The timer of its wait in line; written before the timer can fire or be cancelled. */
    volatile long timer = -1;

    Request(RoutingContext context, Context eventLoop) {
      this.context = context;
      this.eventLoop = eventLoop;
    }
  }
}
