package io.iidca.cli;

import io.iidca.ca.pki.CaFiles;
import io.iidca.routes.client.CloudHint;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The inputs a command reads from outside its arguments: standard streams, environment
 * variables, the clock, for {@code serve} the signal to stop (null: the JVM's shutdown), and
 * where sysfs is mounted, whose DMI strings tell {@code certificate} the cloud (null: read
 * none). Tests pass their own.
 */
record Environment(PrintStream out, PrintStream err, Map<String, String> variables,
    Clock clock, CountDownLatch stop, Path sys) {

  /**
   * The process's own streams and variables; {@code iidca serve} then runs until the JVM shuts
   * down (SIGTERM or SIGINT).
   */
  static Environment system() {
    return new Environment(System.out, System.err, System.getenv(), Clock.systemUTC(), null,
        CloudHint.SYS);
  }

  String variable(String name) {
    return variables.get(name);
  }

  /** The iidca path: {@code IIDCA_PATH} when set, else {@code ~/.iidca}. */
  CaFiles files() {
    String configured = variables.get("IIDCA_PATH");
    if (configured != null && !configured.isBlank()) {
      return new CaFiles(Path.of(configured));
    }
    return new CaFiles(Path.of(System.getProperty("user.home"), ".iidca"));
  }
}
