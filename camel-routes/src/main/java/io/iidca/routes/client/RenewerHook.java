package io.iidca.routes.client;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The reload step after a renewal, so that a service loads the new files: a shell command
 * ({@code --exec}, run with {@code /bin/sh -c}), a signal to the process named in a PID file
 * ({@code --pid-file} and {@code --signal}), or both in that order.
 *
 * <p>The command's standard output and error are passed to an output consumer line by line,
 * and its standard input is {@code /dev/null}. A command that runs longer than {@link #TIMEOUT}
 * is stopped. Signals are sent with the shell's {@code kill -s NAME PID}, because Java can only
 * send SIGTERM and SIGKILL to other processes. Immutable and thread-safe.
 */
public final class RenewerHook {

  /** How long the command may run before it is stopped and the hook fails. */
  public static final Duration TIMEOUT = Duration.ofMinutes(5);
  /** Signal names accepted for {@code --signal}, as POSIX {@code kill -s} takes them. */
  public static final List<String> SIGNALS = List.of("HUP", "INT", "QUIT", "USR1", "USR2",
      "TERM", "ALRM", "CONT", "WINCH");
  /** Lines of the command's output passed on; later lines are counted but dropped. */
  static final int MAX_OUTPUT_LINES = 50;

  private static final String SHELL = "/bin/sh";

  private final String command;
  private final Path pidFile;
  private final String signal;

  /**
   * @param command a shell command, or null
   * @param pidFile a file whose first line is a process id, or null
   * @param signal a name from {@link #SIGNALS}, with or without {@code SIG}, in any case; HUP
   *     when null
   * @throws IllegalArgumentException naming the signal when it is not in {@link #SIGNALS}
   */
  public RenewerHook(String command, Path pidFile, String signal) {
    this.command = command;
    this.pidFile = pidFile;
    this.signal = signal == null ? "HUP" : signalName(signal);
  }

  /** A hook that does nothing. */
  public static RenewerHook none() {
    return new RenewerHook(null, null, null);
  }

  /** A hook that failed: the command's status, a timeout, or a bad PID file. */
  public static final class HookException extends Exception {
    public HookException(String message) {
      super(message);
    }
  }

  static String signalName(String typed) {
    String name = typed.trim().toUpperCase(Locale.ROOT);
    if (name.startsWith("SIG")) {
      name = name.substring(3);
    }
    if (!SIGNALS.contains(name)) {
      throw new IllegalArgumentException("--signal " + typed + " is not supported: use one of "
          + SIGNALS);
    }
    return name;
  }

  public boolean isEmpty() {
    return command == null && pidFile == null;
  }

  /**
   * Runs the command, then sends the signal.
   *
   * @param progress receives one line per completed step
   * @param output receives the lines that the command and {@code kill} print
   * @throws HookException if the command fails or the signal cannot be sent
   */
  public void run(Consumer<String> progress, Consumer<String> output)
      throws HookException, IOException, InterruptedException {
    if (command != null) {
      runCommand(progress, output);
    }
    if (pidFile != null) {
      sendSignal(progress, output);
    }
  }

  private void runCommand(Consumer<String> progress, Consumer<String> output)
      throws HookException, IOException, InterruptedException {
    int status = execute(List.of(SHELL, "-c", command), "--exec '" + command + "'", output);
    if (status != 0) {
      throw new HookException("--exec '" + command + "' exited with status " + status);
    }
    progress.accept("Ran: " + command);
  }

  private void sendSignal(Consumer<String> progress, Consumer<String> output)
      throws HookException, IOException, InterruptedException {
    long pid = readPid();
    if (ProcessHandle.of(pid).isEmpty()) {
      throw new HookException("no process " + pid + " is running (from --pid-file " + pidFile
          + "): is the service up, and does it write its PID there?");
    }
    String description = "kill -s " + signal + " " + pid;
    // The signal and the PID are validated above and passed as arguments, not in the script.
    int status = execute(List.of(SHELL, "-c", "kill -s \"$1\" \"$2\"", "iidca-renew", signal,
        Long.toString(pid)), description, output);
    if (status != 0) {
      throw new HookException(description + " (from --pid-file " + pidFile
          + ") exited with status " + status);
    }
    progress.accept("Sent SIG" + signal + " to process " + pid + " (" + pidFile + ")");
  }

  private long readPid() throws HookException, IOException {
    String text;
    try {
      text = Files.readString(pidFile, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      throw new HookException("--pid-file " + pidFile + " not found: is the service up?");
    }
    String first = text.lines().findFirst().orElse("").trim();
    try {
      long pid = Long.parseLong(first);
      if (pid > 0) {
        return pid;
      }
    } catch (NumberFormatException e) {
      // Reported below with the text.
    }
    throw new HookException("--pid-file " + pidFile + " contains '" + first
        + "', expected a positive process id on its first line");
  }

  private static int execute(List<String> commandLine, String description,
      Consumer<String> output) throws HookException, IOException, InterruptedException {
    Process process = new ProcessBuilder(commandLine)
        .redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .start();
    Thread forwarder = new Thread(() -> forward(process, output), "iidca-hook-output");
    forwarder.setDaemon(true);
    forwarder.start();
    try {
      if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        throw new HookException(description + " did not finish within "
            + TIMEOUT.toMinutes() + " minutes and was stopped");
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      throw e;
    }
    forwarder.join(TimeUnit.SECONDS.toMillis(5));
    return process.exitValue();
  }

  private static void forward(Process process, Consumer<String> output) {
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(
        process.getInputStream(), StandardCharsets.UTF_8))) {
      int lines = 0;
      String line;
      while ((line = reader.readLine()) != null) {
        lines++;
        if (lines <= MAX_OUTPUT_LINES) {
          output.accept(line);
        }
      }
      if (lines > MAX_OUTPUT_LINES) {
        output.accept("(" + (lines - MAX_OUTPUT_LINES) + " more lines not shown)");
      }
    } catch (IOException e) {
      // The process was stopped; its output ends here.
    }
  }
}
