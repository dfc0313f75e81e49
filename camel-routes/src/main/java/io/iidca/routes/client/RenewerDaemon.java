package io.iidca.routes.client;

import io.iidca.ca.config.Durations;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileLockInterruptionException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one certificate fresh: sleeps until its jittered renewal point ({@link
 * RenewalSchedule}), renews it with a {@link Renewer}, runs the {@link RenewerHook}, and
 * repeats. Failed attempts are retried with {@link RenewalSchedule#retryAt}. Logs one line per
 * renewal and per error with SLF4J.
 *
 * <p>The files on disk are the state. The daemon reads the certificate again at least every
 * {@link #MAX_WAIT}, so a certificate that an operator replaced, for example by enrolling
 * again, is scheduled from its own validity. The jitter is drawn once per serial.
 *
 * <p>{@link #stop} and {@link #renewNow} may be called from any thread, such as a signal
 * handler. A stop during the network request interrupts it and abandons the attempt. A stop
 * while files are written or the hook runs waits for that step to finish. Either way no partial
 * file stays behind. {@link #run} must be called by one thread at a time.
 */
public final class RenewerDaemon {

  /** The maximum sleep before the certificate file is read again. */
  public static final Duration MAX_WAIT = Duration.ofMinutes(1);

  private static final Logger LOG = LoggerFactory.getLogger(RenewerDaemon.class);

  /** Receives what the daemon did, after it has logged it. Called on the daemon's thread. */
  public interface Listener {
    /** A listener that ignores every event. */
    Listener NONE = new Listener() {};

    default void renewed(X509Certificate previous, X509Certificate renewed,
        Instant nextRenewal) {}

    default void failed(int failures, Exception error, Instant retryAt) {}
  }

  private enum Event { STOP, RENEW_NOW }

  private enum Phase { IDLE, NETWORK, FILES }

  private final Renewer renewer;
  private final RenewalSchedule schedule;
  private final RenewerHook hook;
  private final Clock clock;
  private final RandomGenerator random;
  private final Listener listener;
  private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
  private final Object phaseLock = new Object();

  // Guarded by phaseLock.
  private Phase phase = Phase.IDLE;
  private boolean stopping;
  private Thread worker;

  // Used only by the thread in run().
  private BigInteger serial;
  private double jitter;
  private Instant obtainedAt;
  private int failures;
  private Instant retryAt;
  private boolean renewRequested;
  private boolean readFailing;

  public RenewerDaemon(Renewer renewer, RenewalSchedule schedule, RenewerHook hook, Clock clock,
      RandomGenerator random, Listener listener) {
    this.renewer = renewer;
    this.schedule = schedule;
    this.hook = hook;
    this.clock = clock;
    this.random = random;
    this.listener = listener;
  }

  /** Asks the daemon to stop; {@link #run} returns once the current step allows it. */
  public void stop() {
    synchronized (phaseLock) {
      stopping = true;
      if (phase == Phase.NETWORK && worker != null) {
        worker.interrupt();
      }
    }
    events.add(Event.STOP);
  }

  /** Asks the daemon to renew at once, as SIGHUP does. */
  public void renewNow() {
    events.add(Event.RENEW_NOW);
  }

  /**
   * Renews until {@link #stop} is called.
   *
   * @throws IllegalStateException if a renewed certificate is already inside its renewal
   *     window, because the daemon would then renew without pause
   */
  public void run() {
    synchronized (phaseLock) {
      worker = Thread.currentThread();
    }
    LOG.info("renewing {} (key {}) {}", renewer.certificateFile(), renewer.keyFile(),
        schedule.describe());
    try {
      while (!isStopping()) {
        Instant due = nextAttempt();
        Instant now = clock.instant();
        if (due != null && (renewRequested || !now.isBefore(due))) {
          renewRequested = false;
          attempt();
          continue;
        }
        Instant wakeUp = due == null ? retryAt : due;
        if (await(Duration.between(now, wakeUp)) == Event.RENEW_NOW) {
          LOG.info("renewing {} now, as requested", renewer.certificateFile());
          renewRequested = true;
        }
      }
    } finally {
      synchronized (phaseLock) {
        worker = null;
      }
      Thread.interrupted();
      LOG.info("stopped renewing {}", renewer.certificateFile());
    }
  }

  private boolean isStopping() {
    synchronized (phaseLock) {
      return stopping;
    }
  }

  /** Returns the next event, or null after {@code delay}, at most {@link #MAX_WAIT}. */
  private Event await(Duration delay) {
    Duration wait = delay.compareTo(MAX_WAIT) > 0 ? MAX_WAIT : delay;
    try {
      return events.poll(wait.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      // Only stop() interrupts, and only during a request; stop() also queued STOP.
      return Event.STOP;
    }
  }

  /**
   * Returns when to attempt next: the retry time after a failure, else the jittered renewal
   * point of the certificate on disk. Returns null when the certificate cannot be read, which
   * counts as a failure and is read again at {@link #retryAt}.
   */
  private Instant nextAttempt() {
    X509Certificate certificate;
    try {
      certificate = renewer.readCertificate();
    } catch (Exception e) {
      if (!readFailing || !clock.instant().isBefore(retryAt)) {
        readFailing = true;
        recordFailure(e, null);
      }
      return null;
    }
    if (readFailing) {
      readFailing = false;
      failures = 0;
      retryAt = null;
      LOG.info("{} is readable again", renewer.certificateFile());
    }
    if (!certificate.getSerialNumber().equals(serial)) {
      if (serial != null) {
        LOG.info("{} was replaced on disk: now serial {}, valid until {}",
            renewer.certificateFile(), Renewer.serial(certificate),
            certificate.getNotAfter().toInstant());
      }
      serial = certificate.getSerialNumber();
      jitter = random.nextDouble();
      obtainedAt = null;
      failures = 0;
      retryAt = null;
    }
    if (failures > 0) {
      return retryAt;
    }
    return schedule.jitteredPoint(RenewalSchedule.Validity.of(certificate, obtainedAt), jitter);
  }

  private void attempt() {
    Renewer.Renewal renewal;
    try {
      renewal = renewAndWrite();
    } catch (InterruptedException | ClosedByInterruptException
        | FileLockInterruptionException e) {
      LOG.info("abandoned the renewal of {}: stopping", renewer.certificateFile());
      return;
    } catch (Exception e) {
      if (isStopping()) {
        LOG.info("abandoned the renewal of {}: stopping ({})", renewer.certificateFile(),
            message(e));
        return;
      }
      Instant notAfter = null;
      try {
        notAfter = renewer.readCertificate().getNotAfter().toInstant();
      } catch (Exception unreadable) {
        // The error above already names the file.
      }
      recordFailure(e, notAfter);
      return;
    }
    if (renewal != null) {
      onRenewed(renewal);
    }
  }

  private void onRenewed(Renewer.Renewal renewal) {
    X509Certificate renewed = renewal.certificate();
    serial = renewed.getSerialNumber();
    obtainedAt = renewal.obtainedAt();
    jitter = random.nextDouble();
    failures = 0;
    retryAt = null;
    // A SIGHUP that arrived during this renewal asked for what just happened.
    events.removeIf(event -> event == Event.RENEW_NOW);
    RenewalSchedule.Validity validity = RenewalSchedule.Validity.of(renewed, obtainedAt);
    Instant next = schedule.jitteredPoint(validity, jitter);
    LOG.info("renewed {}: serial {} -> {}, valid until {}; next renewal at {}",
        renewer.certificateFile(), Renewer.serial(renewal.previous()), Renewer.serial(renewed),
        renewed.getNotAfter().toInstant(), next.truncatedTo(ChronoUnit.SECONDS));
    listener.renewed(renewal.previous(), renewed, next);
    runHook();
    if (schedule.isDue(validity, renewal.obtainedAt())) {
      throw new IllegalStateException("the renewed certificate " + Renewer.serial(renewed)
          + " is valid until " + renewed.getNotAfter().toInstant() + " and so is already due,"
          + " as it is renewed " + schedule.describe() + "; the daemon would renew"
          + " without pause: pass a shorter --expires-in");
    }
  }

  /** Returns the written renewal, or null when a stop arrived before the files step. */
  @SuppressWarnings("try") // the lock is held for the block, never referenced
  private Renewer.Renewal renewAndWrite() throws Exception {
    setPhase(Phase.NETWORK);
    try (Renewer.Lock lock = renewer.lock()) {
      Renewer.Held held = renewer.read();
      Renewer.Renewal renewal = renewer.request(held);
      if (!enterFiles()) {
        LOG.info("abandoned the renewal of {} before writing: stopping",
            renewer.certificateFile());
        return null;
      }
      renewer.write(renewal);
      return renewal;
    } finally {
      setPhase(Phase.IDLE);
    }
  }

  private void setPhase(Phase next) {
    synchronized (phaseLock) {
      phase = next;
    }
  }

  /** Moves to the files phase unless a stop arrived. */
  private boolean enterFiles() {
    synchronized (phaseLock) {
      if (stopping) {
        return false;
      }
      phase = Phase.FILES;
      return true;
    }
  }

  private void runHook() {
    if (hook.isEmpty()) {
      return;
    }
    setPhase(Phase.FILES);
    try {
      hook.run(line -> LOG.info("{}", line), line -> LOG.info("  | {}", line));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      // The certificate is renewed; retrying the renewal would not help the hook.
      LOG.error("renewed {} but the reload failed: {}", renewer.certificateFile(),
          e.getMessage());
    } finally {
      setPhase(Phase.IDLE);
    }
  }

  private void recordFailure(Exception error, Instant notAfter) {
    failures++;
    Instant now = clock.instant();
    retryAt = RenewalSchedule.retryAt(now, failures, notAfter);
    String expiry = notAfter == null ? "" : notAfter.isAfter(now)
        ? " (expires at " + notAfter + ")" : " (expired at " + notAfter + ")";
    LOG.error("renewal of {} failed{}, attempt {}: {}; retrying in {}",
        renewer.certificateFile(), expiry, failures, message(error),
        Durations.format(Duration.between(now, retryAt).withNanos(0)));
    listener.failed(failures, error, retryAt);
  }

  private static String message(Exception error) {
    if (error instanceof java.nio.file.NoSuchFileException missing) {
      return missing.getFile() + ": file not found";
    }
    if (error instanceof IOException && error.getMessage() == null) {
      return error.getClass().getSimpleName();
    }
    return error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage();
  }
}
