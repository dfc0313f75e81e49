package io.iidca.testkit;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The {@code iidca-emulator} command: runs a cloud metadata service emulator until the JVM gets
 * SIGTERM or SIGINT.
 *
 * <pre>
 * iidca-emulator aws --account ID --certificate-out FILE [--listen HOST:PORT] ...
 * iidca-emulator gcp --project ID [--listen HOST:PORT] ...
 * iidca-emulator azure --tenant ID [--listen HOST:PORT] ...
 * </pre>
 *
 * <p>Exit codes: 0 after {@code --help}, 1 when the emulator cannot start (address in use,
 * certificate file not writable), 2 on invalid arguments, with a message naming the value. A
 * stopped emulator exits with the JVM's signal status (143 after SIGTERM).
 */
public final class EmulatorMain {

  static final int EXIT_OK = 0;
  static final int EXIT_FAILURE = 1;
  static final int EXIT_USAGE = 2;

  private static final String PREFIX = "iidca-emulator: ";

  private EmulatorMain() {}

  /** Runs the command and exits with its exit code when it fails. */
  public static void main(String[] args) {
    int code = run(args, System.out, System.err);
    if (code != EXIT_OK) {
      System.exit(code);
    }
  }

  /**
   * Runs the command. After a successful start it serves until the JVM shuts down, closing the
   * emulator from a shutdown hook; on {@code --help} or an error it returns at once.
   *
   * @return the exit code: {@value #EXIT_OK}, {@value #EXIT_FAILURE} or {@value #EXIT_USAGE}
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    if (isHelp(args)) {
      out.print(AwsCommand.USAGE);
      out.println();
      out.print(GcpCommand.USAGE);
      out.println();
      out.print(AzureCommand.USAGE);
      return EXIT_OK;
    }
    AutoCloseable emulator;
    try {
      emulator = start(args, out);
    } catch (UsageException e) {
      err.println(PREFIX + e.getMessage());
      err.println("Run 'iidca-emulator --help' for usage.");
      return EXIT_USAGE;
    } catch (IOException e) {
      err.println(PREFIX + e.getMessage());
      return EXIT_FAILURE;
    }
    return serveUntilShutdown(emulator, err);
  }

  /**
   * Parses the arguments and starts the emulator that they describe, without waiting.
   *
   * @throws UsageException when an argument is invalid
   * @throws IOException when the emulator cannot start
   */
  static AutoCloseable start(String[] args, PrintStream out)
      throws UsageException, IOException {
    if (args.length == 0) {
      throw new UsageException("missing provider, expected aws, gcp or azure");
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    return switch (args[0]) {
      case "aws" -> AwsCommand.parse(rest).start(out);
      case "gcp" -> GcpCommand.parse(rest).start(out);
      case "azure" -> AzureCommand.parse(rest).start(out);
      default -> throw new UsageException("unknown provider '" + args[0]
          + "', expected aws, gcp or azure");
    };
  }

  private static boolean isHelp(String[] args) {
    List<String> list = Arrays.asList(args);
    return list.contains("-h") || list.contains("--help");
  }

  private static int serveUntilShutdown(AutoCloseable emulator, PrintStream err) {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      close(emulator, err);
      stopped.countDown();
    }, "iidca-emulator-shutdown"));
    try {
      stopped.await();
      return EXIT_OK;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close(emulator, err);
      err.println(PREFIX + "interrupted, stopped");
      return EXIT_FAILURE;
    }
  }

  private static void close(AutoCloseable emulator, PrintStream err) {
    try {
      emulator.close();
    } catch (Exception e) {
      err.println(PREFIX + "failed to stop cleanly: " + e.getMessage());
    }
  }

  /** An invalid command line; the message names the option and the value. */
  static final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }
}
