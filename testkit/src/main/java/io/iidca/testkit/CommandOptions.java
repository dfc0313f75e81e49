package io.iidca.testkit;

import io.iidca.testkit.EmulatorMain.UsageException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.function.Supplier;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;

/**
 * Option parsing and output files shared by the {@code aws}, {@code gcp} and {@code azure}
 * commands of {@link EmulatorMain}. Every option takes at most one value, and every invalid
 * value raises a {@link UsageException} that names the option and the value. Stateless, so
 * thread-safe.
 */
final class CommandOptions {

  /** The address that the {@code --listen} error message gives as an example. */
  static final String LISTEN_EXAMPLE = "127.0.0.1:8169";

  private CommandOptions() {}

  /** Returns a long option {@code --name} that takes one value, shown as {@code argument}. */
  static Option valued(String name, String argument) {
    return Option.builder().longOpt(name).hasArg().argName(argument).get();
  }

  /**
   * Parses {@code args} against {@code options}, with no partial matching of option names.
   *
   * @throws UsageException when an option is unknown or lacks its value, or an argument that is
   *     not an option is given
   */
  static CommandLine parse(Options options, String[] args) throws UsageException {
    CommandLine line;
    try {
      line = DefaultParser.builder().setAllowPartialMatching(false).get().parse(options, args);
    } catch (ParseException e) {
      throw new UsageException(e.getMessage());
    }
    if (!line.getArgList().isEmpty()) {
      throw new UsageException("unexpected argument '" + line.getArgList().get(0) + "'");
    }
    return line;
  }

  /**
   * Returns the value of {@code --name}.
   *
   * @throws UsageException when the option is missing or repeated
   */
  static String required(CommandLine line, String name) throws UsageException {
    String value = value(line, name, null);
    if (value == null) {
      throw new UsageException("missing required option --" + name);
    }
    return value;
  }

  /**
   * Returns the value of {@code --name}, or {@code defaultValue} when the option is missing.
   *
   * @throws UsageException when the option is repeated
   */
  static String value(CommandLine line, String name, String defaultValue)
      throws UsageException {
    String[] values = line.getOptionValues(name);
    if (values == null) {
      return defaultValue;
    }
    if (values.length > 1) {
      throw new UsageException("option --" + name + " is given " + values.length
          + " times, expected once");
    }
    return values[0];
  }

  /** Parses {@code HOST:PORT}, with an IPv6 host in brackets, such as {@code [::1]:8169}. */
  static InetSocketAddress parseListen(String text) throws UsageException {
    int colon = text.lastIndexOf(':');
    String host = colon > 0 ? text.substring(0, colon) : "";
    String port = text.substring(colon + 1);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (host.isEmpty() || !port.matches("[0-9]{1,5}") || Integer.parseInt(port) > 65_535) {
      throw new UsageException("invalid --listen '" + text
          + "', expected HOST:PORT with a port from 0 to 65535, such as " + LISTEN_EXAMPLE);
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(host), Integer.parseInt(port));
    } catch (UnknownHostException e) {
      throw new UsageException("invalid --listen '" + text + "': host '" + host
          + "' not found");
    }
  }

  /**
   * Parses the ISO-8601 instant of {@code --option}, or returns {@code defaultValue} when
   * {@code text} is null.
   *
   * @param example an instant that the error message gives as an example
   */
  static Instant parseInstant(String text, Instant defaultValue, String option, String example)
      throws UsageException {
    if (text == null) {
      return defaultValue;
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw new UsageException("invalid --" + option + " '" + text
          + "', expected an ISO-8601 instant such as " + example);
    }
  }

  /**
   * Runs an emulator builder's {@code start()}.
   *
   * @throws IOException with the builder's message when the address cannot be bound
   */
  static <T> T startEmulator(Supplier<T> start) throws IOException {
    try {
      return start.get();
    } catch (UncheckedIOException e) {
      throw new IOException(e.getMessage(), e.getCause());
    }
  }

  /**
   * Writes the file that {@code --option} names, and runs {@code closeEmulator} when that
   * fails, so that a command that cannot write its output leaves no emulator running.
   *
   * @throws IOException naming the option and the file when the write fails
   */
  static void writeOutput(String option, Path file, String text, Runnable closeEmulator)
      throws IOException {
    try {
      writeAtomically(file, text);
    } catch (IOException e) {
      closeEmulator.run();
      throw new IOException("cannot write --" + option + " " + file + ": " + e, e);
    }
  }

  /** Writes through a temporary file in the same directory and a rename, mode 0644 on POSIX. */
  static void writeAtomically(Path file, String text) throws IOException {
    Path target = file.toAbsolutePath();
    Path temporary = Files.createTempFile(
        target.getParent(), "." + target.getFileName() + ".", ".tmp");
    try {
      Files.writeString(temporary, text, StandardCharsets.US_ASCII);
      if (Files.getFileStore(temporary).supportsFileAttributeView("posix")) {
        Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-r--r--"));
      }
      Files.move(temporary, target,
          StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temporary);
    }
  }
}
