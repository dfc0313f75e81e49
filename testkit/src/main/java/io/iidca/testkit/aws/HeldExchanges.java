package io.iidca.testkit.aws;

import com.sun.net.httpserver.HttpExchange;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Requests that get no response: each connection stays open, without a response, until the hold
 * time passes or {@link #close()} runs, and is then closed. No server thread waits meanwhile, so
 * held requests never block other requests or the emulator's shutdown. Thread-safe.
 */
final class HeldExchanges implements AutoCloseable {

  private final Duration holdTime;
  private final Set<HttpExchange> pending = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
      runnable -> {
        Thread thread = new Thread(runnable, "iidca-aws-imds-held");
        thread.setDaemon(true);
        return thread;
      });

  HeldExchanges(Duration holdTime) {
    this.holdTime = holdTime;
  }

  /** Keeps the exchange's connection open without a response, then closes it. */
  void hold(HttpExchange exchange) {
    pending.add(exchange);
    timer.schedule(() -> release(exchange), holdTime.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Returns how many requests are held now. */
  int size() {
    return pending.size();
  }

  /** Closes every held connection without a response. */
  @Override
  public void close() {
    timer.shutdownNow();
    for (HttpExchange exchange : pending) {
      release(exchange);
    }
  }

  // Closing an exchange before its response headers were sent closes the connection itself.
  private void release(HttpExchange exchange) {
    if (pending.remove(exchange)) {
      exchange.close();
    }
  }
}
