package io.iidca.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * CPU time used so far by the server under test and by this load generator, in milliseconds.
 * The server's comes from {@code /proc/PID/stat} (fields utime and stime, in clock ticks, as
 * proc(5) describes), so it covers every thread of that process. The same fields of
 * {@code /proc/PID/task/TID/stat} give each thread's share, summed into groups by thread name
 * ({@link #group}). A database server that runs a process per connection, as PostgreSQL
 * does, is measured as its main process with the children that have ended (fields cutime and
 * cstime) and the children that still run. Thread-safe.
 */
final class CpuClock {

  private final long serverPid;
  private final long databasePid;
  private final long ticksPerSecond;

  /**
   * @param serverPid the server's process id, or 0 to measure only this process
   * @param databasePid the process id of the database server's main process (PostgreSQL's
   *     postmaster), or 0 for none
   * @param ticksPerSecond the kernel's clock ticks per second ({@code getconf CLK_TCK})
   */
  CpuClock(long serverPid, long databasePid, long ticksPerSecond) {
    this.serverPid = serverPid;
    this.databasePid = databasePid;
    this.ticksPerSecond = ticksPerSecond;
  }

  /**
   * Thread groups by the start of the kernel's thread name, which is the Java thread name cut
   * to 15 bytes (proc(5), /proc/PID/task/TID/comm). The first match wins, and a thread that
   * matches none is in {@link #OTHER}.
   */
  private static final List<Map.Entry<String, String>> GROUPS = List.of(
      Map.entry("vert.x-eventloo", "eventloop"),
      Map.entry("vert.x-worker-t", "worker"),
      Map.entry("iidca-store-com", "committer"),
      Map.entry("GC Thread", "gc"),
      Map.entry("G1 ", "gc"),
      Map.entry("C2 CompilerThre", "jit"),
      Map.entry("C1 CompilerThre", "jit"));
  private static final String OTHER = "other";
  /** The groups in the order of {@link #GROUPS}, then {@link #OTHER}, as the output lists them. */
  private static final List<String> GROUP_ORDER = Stream.concat(
      GROUPS.stream().map(Map.Entry::getValue).distinct(), Stream.of(OTHER)).toList();

  /** CPU time of one of the server's threads, with the group of its name. */
  record ThreadTime(String group, double millis) {}

  /**
   * CPU time of the server, of its threads by thread id, and of this process at one moment.
   */
  record Reading(double serverMillis, Map<String, ThreadTime> threads, double clientMillis,
      double databaseMillis) {

    /**
     * Formats each thread group's CPU time since {@code before}, divided by {@code count}, as
     * {@code group:ms,...} in a fixed order, or "none" without a server. A thread started since
     * counts from 0. A thread that ended since is missing, because its time is gone from
     * /proc. The JVM stops idle compiler threads beyond the first of each kind.
     */
    String threadsSince(Reading before, long count) {
      if (threads.isEmpty()) {
        return "none";
      }
      Map<String, Double> groups = new HashMap<>();
      threads.forEach((id, now) -> {
        ThreadTime then = before.threads().get(id);
        double since = then == null ? now.millis() : now.millis() - then.millis();
        groups.merge(now.group(), since, Double::sum);
      });
      StringBuilder text = new StringBuilder();
      for (String group : GROUP_ORDER) {
        text.append(text.length() > 0 ? "," : "").append(group).append(':').append(String
            .format(Locale.ROOT, "%.3f", groups.getOrDefault(group, 0.0) / Math.max(1, count)));
      }
      return text.toString();
    }
  }

  /** Formats {@code millis} divided by {@code count} with three decimals, or n/a for NaN. */
  static String perCount(double millis, long count) {
    return Double.isNaN(millis) ? "n/a"
        : String.format(Locale.ROOT, "%.3f", millis / Math.max(1, count));
  }

  Reading read() {
    return new Reading(serverMillis(), threads(), clientMillis(), databaseMillis());
  }

  /**
   * Returns the CPU time of the database server's main process, of its ended children and of
   * its running children, or NaN without a database server. A child that ends between the
   * listing and its read is missing from that reading.
   */
  private double databaseMillis() {
    if (databasePid <= 0) {
      return Double.NaN;
    }
    double total = millis(Path.of("/proc", String.valueOf(databasePid), "stat"), 4);
    String parent = String.valueOf(databasePid);
    try (var processes = Files.list(Path.of("/proc"))) {
      for (Path process : (Iterable<Path>) processes::iterator) {
        String name = process.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit) || name.equals(parent)) {
          continue;
        }
        String[] fields = fieldsAfterName(process.resolve("stat"));
        // Field 4 of proc(5), the parent's id, is the second after the name.
        if (fields != null && fields[1].equals(parent)) {
          total += ticksToMillis(fields, 2);
        }
      }
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
    return total;
  }

  private double serverMillis() {
    if (serverPid <= 0) {
      return Double.NaN;
    }
    return millis(Path.of("/proc", String.valueOf(serverPid), "stat"), 2);
  }

  private Map<String, ThreadTime> threads() {
    Map<String, ThreadTime> threads = new HashMap<>();
    if (serverPid <= 0) {
      return threads;
    }
    try (var tasks = Files.list(Path.of("/proc", String.valueOf(serverPid), "task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          double millis = millis(task.resolve("stat"), 2);
          if (!Double.isNaN(millis)) {
            threads.put(task.getFileName().toString(),
                new ThreadTime(group(Files.readString(task.resolve("comm")).strip()), millis));
          }
        } catch (IOException ended) {
          // The thread ended after the listing.
        }
      }
    } catch (IOException | RuntimeException e) {
      // The server is gone, and its total is NaN.
    }
    return threads;
  }

  private static String group(String comm) {
    for (Map.Entry<String, String> group : GROUPS) {
      if (comm.startsWith(group.getKey())) {
        return group.getValue();
      }
    }
    return OTHER;
  }

  /**
   * Returns the sum of the first {@code count} of utime, stime, cutime and cstime of a stat
   * file in milliseconds, or NaN if it cannot be read.
   */
  private double millis(Path stat, int count) {
    String[] fields = fieldsAfterName(stat);
    try {
      return fields == null ? Double.NaN : ticksToMillis(fields, count);
    } catch (RuntimeException e) {
      return Double.NaN;
    }
  }

  private double ticksToMillis(String[] fields, int count) {
    long ticks = 0;
    // utime is field 14 of proc(5), the twelfth after the name.
    for (int i = 11; i < 11 + count; i++) {
      ticks += Long.parseLong(fields[i]);
    }
    return ticks * 1000.0 / ticksPerSecond;
  }

  /** Returns the fields of a stat file after the command name, or null if it is gone. */
  private static String[] fieldsAfterName(Path stat) {
    try {
      String text = Files.readString(stat);
      // The command name in field 2 may contain spaces, so count fields after its ')'.
      return text.substring(text.lastIndexOf(')') + 2).split(" ");
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static double clientMillis() {
    var os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      return sun.getProcessCpuTime() / 1e6;
    }
    return Double.NaN;
  }
}
