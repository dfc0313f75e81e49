package io.iidca.bench;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * Completed requests of one thread: completion time, latency and outcome, appended in order.
 * Outcomes are HTTP status codes, or {@link #IO_ERROR} when the connection failed. Not
 * thread-safe: each thread fills its own instance, and {@link #merge} combines them afterwards.
 */
final class Samples {

  /** The outcome of a request whose connection failed before a response arrived. */
  static final int IO_ERROR = -1;

  private long[] completedAt = new long[1024];
  private long[] latencyNanos = new long[1024];
  private int[] outcome = new int[1024];
  private int size;

  void add(long completedAtNanos, long latency, int status) {
    if (size == outcome.length) {
      completedAt = Arrays.copyOf(completedAt, size * 2);
      latencyNanos = Arrays.copyOf(latencyNanos, size * 2);
      outcome = Arrays.copyOf(outcome, size * 2);
    }
    completedAt[size] = completedAtNanos;
    latencyNanos[size] = latency;
    outcome[size] = status;
    size++;
  }

  /** Summary of the requests that completed in [from, to], both in {@link System#nanoTime}. */
  record Summary(long ok, Map<String, Long> failures, double p50Millis, double p99Millis,
      double maxMillis) {

    /** Returns the failures as {@code STATUS:COUNT,...}, or {@code none}. */
    String failuresText() {
      if (failures.isEmpty()) {
        return "none";
      }
      StringBuilder text = new StringBuilder();
      failures.forEach((status, count) -> {
        if (text.length() > 0) {
          text.append(',');
        }
        text.append(status).append(':').append(count);
      });
      return text.toString();
    }
  }

  /**
   * Merges the samples of several threads for the window [from, to]. Latency percentiles cover
   * the requests whose outcome was {@code okStatus}; other outcomes are counted by status.
   */
  static Summary merge(Iterable<Samples> all, long from, long to, int okStatus) {
    long[] latencies = new long[16];
    int okCount = 0;
    Map<String, Long> failures = new TreeMap<>();
    for (Samples samples : all) {
      for (int i = 0; i < samples.size; i++) {
        if (samples.completedAt[i] < from || samples.completedAt[i] > to) {
          continue;
        }
        if (samples.outcome[i] == okStatus) {
          if (okCount == latencies.length) {
            latencies = Arrays.copyOf(latencies, okCount * 2);
          }
          latencies[okCount++] = samples.latencyNanos[i];
        } else {
          String key = samples.outcome[i] == IO_ERROR ? "io" : String.valueOf(samples.outcome[i]);
          failures.merge(key, 1L, Long::sum);
        }
      }
    }
    long[] sorted = Arrays.copyOf(latencies, okCount);
    Arrays.sort(sorted);
    return new Summary(okCount, failures, percentileMillis(sorted, 0.50),
        percentileMillis(sorted, 0.99), okCount == 0 ? Double.NaN : sorted[okCount - 1] / 1e6);
  }

  /** Nearest-rank percentile in milliseconds, or NaN when there are no samples. */
  static double percentileMillis(long[] sortedNanos, double quantile) {
    if (sortedNanos.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(quantile * sortedNanos.length);
    return sortedNanos[Math.max(0, rank - 1)] / 1e6;
  }
}
