package io.iidca.routes.client;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs one blocking HTTP exchange on a daemon thread of its own, so that the caller can stop
 * waiting for it: a blocked read of {@code HttpURLConnection} ignores interrupts, and only
 * closing the connection ends it.
 */
final class RequestThread {

  private RequestThread() {}

  /** Starts {@code exchange} on a new daemon thread named {@code name}. */
  static <T> FutureTask<T> start(String name, Callable<T> exchange) {
    FutureTask<T> task = new FutureTask<>(exchange);
    Thread thread = new Thread(task, name);
    thread.setDaemon(true);
    thread.start();
    return task;
  }

  /**
   * Sets {@code abandoned}, which the exchange checks after its connect so that it sends
   * nothing, and closes the connection on another thread. While the exchange's thread reads a
   * body, {@code disconnect} waits for that read to return, and a server that trickles bytes
   * delayed that by 10 to 19 s in a test.
   */
  static void abandon(HttpURLConnection connection, AtomicBoolean abandoned) {
    abandoned.set(true);
    start("iidca-request-close", () -> {
      connection.disconnect();
      return null;
    });
  }

  /**
   * Returns the exchange's own {@link IOException} for the caller to throw, and throws its
   * unchecked exceptions and errors as they are.
   */
  static IOException failure(ExecutionException e) {
    if (e.getCause() instanceof IOException cause) {
      return cause;
    }
    if (e.getCause() instanceof RuntimeException cause) {
      throw cause;
    }
    if (e.getCause() instanceof Error error) {
      throw error;
    }
    return new IOException(e.getCause());
  }
}
