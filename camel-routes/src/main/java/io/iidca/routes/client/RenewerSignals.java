package io.iidca.routes.client;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connects process signals to a {@link RenewerDaemon}: SIGTERM and SIGINT stop it, SIGHUP
 * makes it renew at once.
 *
 * <p>Java SE has no API for signals. This class uses {@code sun.misc.Signal} from the
 * {@code jdk.unsupported} module, which OpenJDK 17 ships and exports, through reflection so that
 * the build does not depend on it and a runtime without it still works. Installing a handler
 * for SIGTERM or SIGINT replaces the JVM's own, which would run the shutdown hooks and exit.
 * Where a handler cannot be installed, because the class is missing or the JVM reserves the
 * signal (as with {@code -Xrs}), SIGTERM and SIGINT fall back to a shutdown hook that stops the
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
    boolean term = handle("TERM", daemon::stop);
    boolean interrupt = handle("INT", daemon::stop);
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
    if (!handle("HUP", daemon::renewNow)) {
      LOG.warn("SIGHUP cannot be handled in this JVM (sun.misc.Signal is unavailable or the"
          + " signal is reserved): restart the process to renew at once");
    }
  }

  /**
   * Runs {@code action} on a JVM signal thread whenever the process receives signal
   * {@code name} (such as HUP, without SIG). Returns false when the handler cannot be
   * installed.
   */
  static boolean handle(String name, Runnable action) {
    try {
      Class<?> signalClass = Class.forName("sun.misc.Signal");
      Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
      Constructor<?> constructor = signalClass.getConstructor(String.class);
      Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
      Object handler = Proxy.newProxyInstance(RenewerSignals.class.getClassLoader(),
          new Class<?>[] {handlerClass}, (proxy, method, args) -> {
            switch (method.getName()) {
              case "handle" -> action.run();
              case "hashCode" -> {
                return System.identityHashCode(proxy);
              }
              case "equals" -> {
                return proxy == args[0];
              }
              case "toString" -> {
                return "iidca renew handler for SIG" + name;
              }
              default -> {
                // SignalHandler declares only handle(Signal).
              }
            }
            return null;
          });
      Object previous = handle.invoke(null, constructor.newInstance(name), handler);
      if (previous != null && previous.equals(handlerClass.getField("SIG_IGN").get(null))) {
        // The JVM installs no handler for a signal that the parent process ignores, such as
        // SIGINT in a shell's background job, so the signal stays ignored.
        LOG.info("SIG{} stays ignored, as the parent process set it", name);
      }
      return true;
    } catch (InvocationTargetException e) {
      // IllegalArgumentException: an unknown signal, or one that the JVM reserves.
      LOG.debug("cannot handle SIG{}: {}", name, e.getCause().getMessage());
      return false;
    } catch (ReflectiveOperationException | LinkageError | SecurityException e) {
      LOG.debug("cannot handle SIG{}: {}", name, e.toString());
      return false;
    }
  }
}
