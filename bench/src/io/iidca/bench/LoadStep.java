package io.iidca.bench;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One closed-loop load step: N keep-alive connections, each on its own thread, send the next
 * request (prebuilt, except a warm-up's) as soon as the previous response has arrived. All
 * connections complete their TLS handshake before the clock starts; a warm-up follows, then the
 * measured window.
 *
 * <p>Responses that complete inside the window count. When the prebuilt requests run out first,
 * the window ends at that moment and the result is marked exhausted. A failed connection is
 * reopened, and its failure counts as outcome {@code io}. Every thread stops at the end of the
 * window, or after its in-flight request, whose read times out after 30 seconds.
 */
final class LoadStep {

  /** Prebuilt requests, handed out to connection threads. Thread-safe. */
  interface RequestSource {
    /** Returns the next request, or null when none is left. */
    byte[] next();
  }

  /** Hands out each request of a list once. */
  static RequestSource once(List<byte[]> requests) {
    AtomicInteger index = new AtomicInteger();
    return () -> {
      int i = index.getAndIncrement();
      return i < requests.size() ? requests.get(i) : null;
    };
  }

  /** Hands out the same request forever. */
  static RequestSource repeat(byte[] request) {
    return () -> request;
  }

  /**
   * A measured step; rates are per second of the actual window. {@code failureExample} is the
   * start of the first response body with an unexpected status, or empty.
   */
  record Result(String target, int connections, double windowSeconds, boolean exhausted,
      Samples.Summary summary, double serverCpuMillis, String serverThreads,
      double clientCpuMillis, double databaseCpuMillis, String failureExample) {

    double rate() {
      return summary.ok() / windowSeconds;
    }

    /** Formats the result as one {@code key=value} line for bench/run to parse. */
    String line() {
      long ok = Math.max(1, summary.ok());
      return String.format(Locale.ROOT, "result target=%s connections=%d window_s=%.2f"
          + " exhausted=%s ok=%d rate=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f failures=%s"
          + " server_cpu_ms_per_ok=%.3f server_threads_ms_per_ok=%s client_cpu_ms_per_ok=%.3f"
          + " database_cpu_ms_per_ok=%s failure_example=%s",
          target, connections, windowSeconds, exhausted ? "yes" : "no", summary.ok(), rate(),
          summary.p50Millis(), summary.p99Millis(), summary.maxMillis(), summary.failuresText(),
          serverCpuMillis / ok, serverThreads, clientCpuMillis / ok,
          CpuClock.perCount(databaseCpuMillis, ok),
          failureExample.isEmpty() ? "none" : failureExample.replaceAll("\\s+", "_"));
    }
  }

  private final TlsConnector connector;
  private final URI url;
  private final int okStatus;
  private final CpuClock cpu;
  private final AtomicReference<String> failureExample = new AtomicReference<>("");

  LoadStep(TlsConnector connector, URI url, int okStatus, CpuClock cpu) {
    this.connector = connector;
    this.url = url;
    this.okStatus = okStatus;
    this.cpu = cpu;
  }

  Result run(String target, RequestSource source, int connections, Duration warmup,
      Duration window) throws InterruptedException {
    List<HttpsConnection> opened = openAll(connections);
    long start = System.nanoTime();
    long windowStart = start + warmup.toNanos();
    long windowEnd = windowStart + window.toNanos();
    AtomicLong exhaustedAt = new AtomicLong(Long.MAX_VALUE);
    List<Samples> all = new ArrayList<>();
    CountDownLatch done = new CountDownLatch(connections);
    for (int c = 0; c < connections; c++) {
      Samples samples = new Samples();
      all.add(samples);
      HttpsConnection connection = opened.get(c);
      Thread thread = new Thread(() -> {
        try {
          drive(connection, source, samples, windowEnd, exhaustedAt);
        } finally {
          done.countDown();
        }
      }, "load-" + target + "-" + c);
      thread.setDaemon(true);
      thread.start();
    }
    sleepUntil(windowStart, exhaustedAt);
    CpuClock.Reading before = cpu.read();
    sleepUntil(windowEnd, exhaustedAt);
    CpuClock.Reading after = cpu.read();
    long end = Math.min(windowEnd, exhaustedAt.get());
    if (!done.await(60, TimeUnit.SECONDS)) {
      System.err.println("bench: some connections of " + target + " did not stop in 60 s");
    }
    double seconds = Math.max(0, end - windowStart) / 1e9;
    Samples.Summary summary = Samples.merge(all, windowStart, end, okStatus);
    return new Result(target, connections, seconds, exhaustedAt.get() < windowEnd, summary,
        after.serverMillis() - before.serverMillis(),
        after.threadsSince(before, summary.ok()),
        after.clientMillis() - before.clientMillis(),
        after.databaseMillis() - before.databaseMillis(), failureExample.get());
  }

  private List<HttpsConnection> openAll(int connections) throws InterruptedException {
    List<HttpsConnection> opened = new ArrayList<>();
    for (int c = 0; c < connections; c++) {
      opened.add(openWithRetry(System.nanoTime() + Duration.ofSeconds(30).toNanos()));
    }
    return opened;
  }

  private HttpsConnection openWithRetry(long deadline) throws InterruptedException {
    while (true) {
      try {
        return HttpsConnection.open(connector, url.getHost(), url.getPort());
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("connecting to " + url + " failed for 30 s: " + e, e);
        }
        Thread.sleep(100);
      }
    }
  }

  private void drive(HttpsConnection first, RequestSource source, Samples samples,
      long windowEnd, AtomicLong exhaustedAt) {
    HttpsConnection connection = first;
    try {
      while (System.nanoTime() < windowEnd) {
        byte[] request = source.next();
        if (request == null) {
          exhaustedAt.accumulateAndGet(System.nanoTime(), Math::min);
          return;
        }
        if (connection == null) {
          connection = reopen(samples, windowEnd);
          if (connection == null) {
            return;
          }
        }
        long sent = System.nanoTime();
        try {
          HttpsConnection.Response response = connection.exchange(request);
          long received = System.nanoTime();
          samples.add(received, received - sent, response.status());
          if (response.status() != okStatus && failureExample.get().isEmpty()) {
            failureExample.compareAndSet("", response.status() + ":" + response.snippet());
          }
          if (response.closes()) {
            connection.close();
            connection = null;
          }
        } catch (IOException e) {
          samples.add(System.nanoTime(), 0, Samples.IO_ERROR);
          connection.close();
          connection = null;
        }
      }
    } finally {
      if (connection != null) {
        connection.close();
      }
    }
  }

  /** Opens a new connection, recording each failure; returns null when the window has ended. */
  private HttpsConnection reopen(Samples samples, long windowEnd) {
    while (System.nanoTime() < windowEnd) {
      try {
        return HttpsConnection.open(connector, url.getHost(), url.getPort());
      } catch (IOException e) {
        samples.add(System.nanoTime(), 0, Samples.IO_ERROR);
        try {
          Thread.sleep(50);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          return null;
        }
      }
    }
    return null;
  }

  private static void sleepUntil(long deadline, AtomicLong exhaustedAt)
      throws InterruptedException {
    while (true) {
      long now = System.nanoTime();
      if (now >= deadline || exhaustedAt.get() != Long.MAX_VALUE) {
        return;
      }
      Thread.sleep(Math.min(20, Math.max(1, (deadline - now) / 1_000_000)));
    }
  }
}
