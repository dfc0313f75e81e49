package io.iidca.bench;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A boot storm: many instances start at once and each enrolls exactly once. Every enrollment
 * opens its own TLS connection with a full handshake (no session resumption), because each
 * instance is a different machine, and closes it afterwards. A fixed number of workers keeps
 * that many enrollments in flight.
 *
 * <p>A {@code 429} or {@code 503} response is retried with the same request after its
 * {@code Retry-After} (1 second when absent, at most {@link #MAX_RETRY_AFTER}), and a failed
 * connection after 100 ms, each at most {@link #MAX_ATTEMPTS} times per instance. Any other
 * status is final. The storm stops at its deadline even if enrollments remain.
 */
final class BootStorm {

  private static final int MAX_ATTEMPTS = 20;
  private static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(30);

  /** The outcome of a storm. */
  record Result(String target, int instances, int workers, long certificates,
      double secondsToLast, Map<String, Long> finalFailures, Map<String, Long> retriedResponses,
      long honoredRetryAfter, double p50Millis, double p99Millis, double serverCpuMillis,
      String serverThreads, double clientCpuMillis, double databaseCpuMillis) {

    String line() {
      long ok = Math.max(1, certificates);
      return String.format(Locale.ROOT, "storm target=%s instances=%d workers=%d"
          + " certificates=%d seconds_to_last=%.2f rate=%.1f p50_ms=%.2f p99_ms=%.2f"
          + " final_failures=%s retried=%s honored_retry_after=%d server_cpu_ms_per_ok=%.3f"
          + " server_threads_ms_per_ok=%s client_cpu_ms_per_ok=%.3f"
          + " database_cpu_ms_per_ok=%s",
          target, instances, workers, certificates, secondsToLast,
          certificates / Math.max(1e-9, secondsToLast), p50Millis, p99Millis,
          text(finalFailures), text(retriedResponses), honoredRetryAfter, serverCpuMillis / ok,
          serverThreads, clientCpuMillis / ok, CpuClock.perCount(databaseCpuMillis, ok));
    }

    private static String text(Map<String, Long> counts) {
      if (counts.isEmpty()) {
        return "none";
      }
      StringBuilder text = new StringBuilder();
      counts.forEach((key, count) -> text.append(text.length() > 0 ? "," : "")
          .append(key).append(':').append(count));
      return text.toString();
    }
  }

  private final TlsConnector connector;
  private final URI url;
  private final CpuClock cpu;
  private final Map<String, Long> retried = new ConcurrentHashMap<>();
  private final Map<String, Long> failed = new ConcurrentHashMap<>();
  private final AtomicLong honored = new AtomicLong();
  private final AtomicLong lastCertificate = new AtomicLong();

  BootStorm(TlsConnector connector, URI url, CpuClock cpu) {
    this.connector = connector;
    this.url = url;
    this.cpu = cpu;
  }

  Result run(String target, List<byte[]> requests, int workers, Duration deadline)
      throws InterruptedException {
    AtomicInteger next = new AtomicInteger();
    List<Samples> all = new ArrayList<>();
    CountDownLatch done = new CountDownLatch(workers);
    CpuClock.Reading before = cpu.read();
    long start = System.nanoTime();
    long stopAt = start + deadline.toNanos();
    lastCertificate.set(start);
    for (int w = 0; w < workers; w++) {
      Samples samples = new Samples();
      all.add(samples);
      Thread thread = new Thread(() -> {
        try {
          int i;
          while ((i = next.getAndIncrement()) < requests.size() && System.nanoTime() < stopAt) {
            enroll(requests.get(i), samples, stopAt);
          }
        } finally {
          done.countDown();
        }
      }, "storm-" + w);
      thread.setDaemon(true);
      thread.start();
    }
    if (!done.await(deadline.toSeconds() + 60, TimeUnit.SECONDS)) {
      System.err.println("bench: storm workers of " + target + " did not stop in time");
    }
    CpuClock.Reading after = cpu.read();
    Samples.Summary summary = Samples.merge(all, start, Long.MAX_VALUE, 201);
    int unsent = Math.max(0, requests.size() - Math.min(next.get(), requests.size()));
    if (unsent > 0) {
      failed.merge("unsent", (long) unsent, Long::sum);
    }
    return new Result(target, requests.size(), workers, summary.ok(),
        (lastCertificate.get() - start) / 1e9, new TreeMap<>(failed), new TreeMap<>(retried),
        honored.get(), summary.p50Millis(), summary.p99Millis(),
        after.serverMillis() - before.serverMillis(),
        after.threadsSince(before, summary.ok()),
        after.clientMillis() - before.clientMillis(),
        after.databaseMillis() - before.databaseMillis());
  }

  /**
   * Enrolls one instance; the latency recorded spans from its first attempt to its final
   * response, retries and waits included.
   */
  private void enroll(byte[] request, Samples samples, long stopAt) {
    long first = System.nanoTime();
    boolean waitedForRetryAfter = false;
    for (int attempt = 1; attempt <= MAX_ATTEMPTS && System.nanoTime() < stopAt; attempt++) {
      HttpsConnection.Response response;
      try {
        HttpsConnection connection =
            HttpsConnection.open(connector, url.getHost(), url.getPort());
        try {
          response = connection.exchange(request);
        } finally {
          connection.closeWithoutResumption();
        }
      } catch (IOException e) {
        retried.merge("io", 1L, Long::sum);
        pause(Duration.ofMillis(100));
        continue;
      }
      int status = response.status();
      if (status == 429 || status == 503) {
        retried.merge(String.valueOf(status), 1L, Long::sum);
        waitedForRetryAfter = true;
        pause(retryAfter(response));
        continue;
      }
      long now = System.nanoTime();
      samples.add(now, now - first, status);
      if (status == 201) {
        lastCertificate.accumulateAndGet(now, Math::max);
        if (waitedForRetryAfter) {
          honored.incrementAndGet();
        }
      } else {
        failed.merge(String.valueOf(status), 1L, Long::sum);
      }
      return;
    }
    failed.merge("gave-up", 1L, Long::sum);
  }

  private static Duration retryAfter(HttpsConnection.Response response) {
    Duration wait = Duration.ofSeconds(Math.max(1, response.retryAfterSeconds()));
    return wait.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : wait;
  }

  private static void pause(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
