package io.iidca.routes.client;

import io.iidca.routes.ProcessSignals;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connects process signals to a {@link RenewerDaemon}: SIGTERM and SIGINT stop it, SIGHUP
 * makes it renew at once.
 *
 * <p>Installing a handler ({@link ProcessSignals}) for SIGTERM or SIGINT replaces the JVM's
 * own, which would run the shutdown hooks and exit. Where a handler cannot be installed,
 * SIGTERM and SIGINT fall back to a shutdown hook that stops the
 * daemon and waits up to {@link #SHUTDOWN_WAIT} for it, and SIGHUP is not available: restart
 * the process to renew at once.
 */
public final class RenewerSignals {

  /** How long the fallback shutdown hook waits for the daemon to finish its current step. */
  public static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(60);

  private static final Logger LOG = LoggerFactory.getLogger(RenewerSignals.class);

  private RenewerSignals() {}

  /**
   * Installs the handlers for {@code daemon}.
   *
   * @param finished counted down by the caller once {@link RenewerDaemon#run} has returned; the
   *     fallback shutdown hook waits for it
   */
  public static void install(RenewerDaemon daemon, CountDownLatch finished) {
    boolean term = ProcessSignals.handle("TERM", daemon::stop);
    boolean interrupt = ProcessSignals.handle("INT", daemon::stop);
    if (!term || !interrupt) {
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        daemon.stop();
        try {
          finished.await(SHUTDOWN_WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "iidca-renew-shutdown"));
      LOG.info("stopping on SIGTERM and SIGINT through a shutdown hook:"
          + " sun.misc.Signal could not handle them");
    }
    if (!ProcessSignals.handle("HUP", daemon::renewNow)) {
      LOG.warn("SIGHUP cannot be handled in this JVM (sun.misc.Signal is unavailable or the"
          + " signal is reserved): restart the process to renew at once");
    }
  }
}
