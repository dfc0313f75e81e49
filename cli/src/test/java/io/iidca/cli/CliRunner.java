package io.iidca.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/** Runs {@code iidca} commands in this JVM with their own variables and captured output. */
final class CliRunner {

  /** The outcome of one command. */
  record Result(int status, String out, String err) {}

  private final Map<String, String> variables = new HashMap<>();
  private Path sys;

  CliRunner(String iidcaPath) {
    variables.put("IIDCA_PATH", iidcaPath);
  }

  /** Sets where the commands find sysfs for the cloud hint; null, the default, reads no files. */
  CliRunner sys(Path sys) {
    this.sys = sys;
    return this;
  }

  CliRunner variable(String name, String value) {
    variables.put(name, value);
    return this;
  }

  Result run(String... args) {
    return run(null, args);
  }

  Result run(CountDownLatch stop, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Environment environment = new Environment(
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), Map.copyOf(variables),
        Clock.systemUTC(), stop, sys);
    int status = Main.run(args, environment);
    return new Result(status, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }
}
