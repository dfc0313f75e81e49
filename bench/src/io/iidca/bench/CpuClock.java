package io.iidca.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time used so far by the server under test and by this load generator, in milliseconds.
 * The server's comes from {@code /proc/PID/stat} (fields utime and stime, in clock ticks, as
 * proc(5) describes), so it covers every thread of that process. Thread-safe.
 */
final class CpuClock {

  private final long serverPid;
  private final long ticksPerSecond;

  /**
   * @param serverPid the server's process id, or 0 to measure only this process
   * @param ticksPerSecond the kernel's clock ticks per second ({@code getconf CLK_TCK})
   */
  CpuClock(long serverPid, long ticksPerSecond) {
    this.serverPid = serverPid;
    this.ticksPerSecond = ticksPerSecond;
  }

  /** CPU time of the server and of this process at one moment. */
  record Reading(double serverMillis, double clientMillis) {}

  Reading read() {
    return new Reading(serverMillis(), clientMillis());
  }

  private double serverMillis() {
    if (serverPid <= 0) {
      return Double.NaN;
    }
    try {
      String stat = Files.readString(Path.of("/proc", String.valueOf(serverPid), "stat"));
      // The command name in field 2 may contain spaces, so count fields after its ')'.
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
      return ticks * 1000.0 / ticksPerSecond;
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
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
