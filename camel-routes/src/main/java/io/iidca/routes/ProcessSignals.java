package io.iidca.routes;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Process signals for the long-running commands: {@code iidca renew --daemon} and
 * {@code iidca serve}.
 *
 * <p>Java SE has no API for signals. This class uses {@code sun.misc.Signal} from the
 * {@code jdk.unsupported} module, which OpenJDK 17 ships and exports, through reflection so that
 * the build does not depend on it and a runtime without it still works. A handler cannot be
 * installed where the class is missing or the JVM reserves the signal (as with {@code -Xrs}).
 */
public final class ProcessSignals {

  private static final Logger LOG = LoggerFactory.getLogger(ProcessSignals.class);

  private ProcessSignals() {}

  /**
   * Runs {@code action} on a JVM signal thread whenever the process receives signal
   * {@code name} (such as HUP, without SIG). Returns false when the handler cannot be
   * installed.
   */
  public static boolean handle(String name, Runnable action) {
    try {
      Class<?> signalClass = Class.forName("sun.misc.Signal");
      Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
      Constructor<?> constructor = signalClass.getConstructor(String.class);
      Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
      Object handler = Proxy.newProxyInstance(ProcessSignals.class.getClassLoader(),
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
                return "iidca handler for SIG" + name;
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
