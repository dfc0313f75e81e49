package io.iidca.routes.client;

import java.io.IOException;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

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
