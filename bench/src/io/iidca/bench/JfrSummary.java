package io.iidca.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * Summarizes a JDK Flight Recorder file of the CA under load as Markdown tables: where CPU
 * samples fall (by component and by pipeline stage), the hottest methods, what allocates, and
 * garbage collection.
 *
 * <p>Each {@code jdk.ExecutionSample} is one stack of a thread running Java code. A sample counts
 * for TLS, the database or logging when any frame belongs to them, because they call into
 * cryptography and the JDK. Any other sample counts for the library of the frame nearest the
 * leaf that belongs to a known library. Stages are found by the iidca processor class nearest the
 * leaf. Samples are estimates: threads in native code (socket reads, {@code epoll}) and the
 * JVM's own threads (JIT, GC) are not sampled.
 *
 * <p>Usage: {@code JfrSummary FILE [CPU_MS_PER_REQUEST]}; with the server's CPU time per request
 * measured beside the recording, each share is also shown in milliseconds per request.
 */
public final class JfrSummary {

  /** Components found anywhere in the stack; the first match wins. */
  private static final Map<String, List<String>> WRAPPERS = ordered(
      "TLS (handshake and records)", List.of("sun.security.ssl."),
      "database (JDBC, pool, engine)", List.of("org.h2.", "org.postgresql.",
          "com.zaxxer.hikari.", "org.flywaydb."),
      "logging", List.of("ch.qos.logback.", "org.slf4j."));

  /** Components found from the leaf up; the first frame that matches one wins. */
  private static final Map<String, List<String>> LIBRARIES = ordered(
      "cryptography (BC, JCA)", List.of("org.bouncycastle.", "sun.security.", "java.security.",
          "javax.crypto.", "com.sun.crypto.", "java.math.BigInteger"),
      "JSON (Jackson)", List.of("com.fasterxml.jackson."),
      "JWT (Nimbus)", List.of("com.nimbusds."),
      "Camel routing", List.of("org.apache.camel."),
      "HTTP server (Vert.x, Netty)", List.of("io.vertx.", "io.netty."),
      "iidca code", List.of("io.iidca."));

  /** Pipeline processors by class, as CaServer wires them. */
  private static final Map<String, String> STAGES = Map.of(
      "io.iidca.routes.server.Decoder", "decode",
      "io.iidca.routes.server.ProvisionerIdentifier", "identify",
      "io.iidca.routes.server.AwsVerification", "verify-aws",
      "io.iidca.routes.server.PolicyStage", "policy",
      "io.iidca.routes.server.SignStage", "sign",
      "io.iidca.routes.server.RecordStage", "record",
      "io.iidca.routes.server.SignResponder", "respond",
      "io.iidca.routes.server.AuditLog", "audit log",
      "io.iidca.routes.server.ErrorResponder", "error response");

  private final Map<String, Long> components = new HashMap<>();
  private final Map<String, Long> stages = new HashMap<>();
  private final Map<String, Long> leafMethods = new HashMap<>();
  private final Map<String, Long> threads = new HashMap<>();
  private final Map<String, Long> allocatedByClass = new HashMap<>();
  private final Map<String, Long> allocatedByComponent = new HashMap<>();
  private long samples;
  private long allocatedBytes;
  private long collections;
  private double pauseMillis;

  public static void main(String[] args) throws IOException {
    if (args.length < 1) {
      System.err.println("usage: JfrSummary FILE [CPU_MS_PER_REQUEST]");
      System.exit(2);
    }
    double cpuPerRequest = args.length > 1 ? Double.parseDouble(args[1]) : Double.NaN;
    JfrSummary summary = new JfrSummary();
    for (RecordedEvent event : RecordingFile.readAllEvents(Path.of(args[0]))) {
      summary.accept(event);
    }
    summary.print(cpuPerRequest);
  }

  private void accept(RecordedEvent event) {
    switch (event.getEventType().getName()) {
      case "jdk.ExecutionSample" -> sample(event);
      case "jdk.ObjectAllocationSample" -> allocation(event);
      case "jdk.GarbageCollection" -> {
        collections++;
        pauseMillis += event.getDuration("sumOfPauses").toNanos() / 1e6;
      }
      default -> { }
    }
  }

  private void sample(RecordedEvent event) {
    RecordedStackTrace stack = event.getStackTrace();
    if (stack == null || stack.getFrames().isEmpty()) {
      return;
    }
    samples++;
    List<RecordedFrame> frames = stack.getFrames();
    components.merge(component(frames), 1L, Long::sum);
    stages.merge(stage(frames), 1L, Long::sum);
    leafMethods.merge(method(frames.get(0)), 1L, Long::sum);
    RecordedThread thread = event.getThread("sampledThread");
    threads.merge(threadGroup(thread == null ? "" : thread.getJavaName()), 1L, Long::sum);
  }

  private void allocation(RecordedEvent event) {
    long weight = event.getLong("weight");
    allocatedBytes += weight;
    String type = event.getClass("objectClass").getName();
    allocatedByClass.merge(type, weight, Long::sum);
    RecordedStackTrace stack = event.getStackTrace();
    String component = stack == null ? "unknown" : component(stack.getFrames());
    allocatedByComponent.merge(component, weight, Long::sum);
  }

  private static String component(List<RecordedFrame> frames) {
    for (Map.Entry<String, List<String>> wrapper : WRAPPERS.entrySet()) {
      for (RecordedFrame frame : frames) {
        if (matches(frame, wrapper.getValue())) {
          return wrapper.getKey();
        }
      }
    }
    for (RecordedFrame frame : frames) {
      for (Map.Entry<String, List<String>> library : LIBRARIES.entrySet()) {
        if (matches(frame, library.getValue())) {
          return library.getKey();
        }
      }
    }
    return "JDK and other";
  }

  private static String stage(List<RecordedFrame> frames) {
    for (RecordedFrame frame : frames) {
      String stage = STAGES.get(typeName(frame));
      if (stage != null) {
        return stage;
      }
    }
    return "outside the pipeline stages";
  }

  private static String threadGroup(String name) {
    if (name.startsWith("vert.x-eventloop")) {
      return "vert.x-eventloop-thread-*";
    }
    if (name.startsWith("vert.x-worker")) {
      return "vert.x-worker-thread-*";
    }
    if (name.startsWith("vert.x-internal-blocking")) {
      return "vert.x-internal-blocking-*";
    }
    return name.replaceAll("[0-9]+", "N");
  }

  private static boolean matches(RecordedFrame frame, List<String> prefixes) {
    String type = typeName(frame);
    for (String prefix : prefixes) {
      if (type.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  private static String typeName(RecordedFrame frame) {
    return frame.getMethod() == null ? "" : frame.getMethod().getType().getName();
  }

  private static String method(RecordedFrame frame) {
    return frame.getMethod() == null ? "?"
        : typeName(frame) + "." + frame.getMethod().getName();
  }

  private void print(double cpuPerRequest) {
    System.out.printf("%d execution samples, %d garbage collections with %.0f ms of pauses,"
        + " %.1f GB allocated (sampled estimate)%n%n", samples, collections, pauseMillis,
        allocatedBytes / 1e9);
    table("CPU samples by component", components, samples, cpuPerRequest, 20);
    table("CPU samples by pipeline stage", stages, samples, cpuPerRequest, 20);
    table("CPU samples by thread", threads, samples, Double.NaN, 10);
    table("Hottest methods (self, leaf frame)", leafMethods, samples, Double.NaN, 25);
    table("Allocation by component (bytes)", allocatedByComponent, allocatedBytes, Double.NaN,
        20);
    table("Allocation by class (bytes)", allocatedByClass, allocatedBytes, Double.NaN, 15);
  }

  private static void table(String title, Map<String, Long> counts, long total,
      double cpuPerRequest, int rows) {
    boolean perRequest = !Double.isNaN(cpuPerRequest);
    System.out.println("| " + title + " | share |" + (perRequest ? " ms per request |" : ""));
    System.out.println("| --- | --- |" + (perRequest ? " --- |" : ""));
    counts.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .limit(rows)
        .forEach(entry -> {
          double share = total == 0 ? 0 : (double) entry.getValue() / total;
          String row = String.format(Locale.ROOT, "| `%s` | %.1f%% |", entry.getKey(),
              100 * share);
          if (perRequest) {
            row += String.format(Locale.ROOT, " %.3f |", share * cpuPerRequest);
          }
          System.out.println(row);
        });
    System.out.println();
  }

  private static <V> Map<String, V> ordered(Object... keysAndValues) {
    Map<String, V> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      @SuppressWarnings("unchecked")
      V value = (V) keysAndValues[i + 1];
      map.put((String) keysAndValues[i], value);
    }
    return map;
  }
}
