package io.iidca.cli;

import io.iidca.ca.pki.CaFiles;
import io.iidca.routes.client.ClientDefaults;
import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.HelpFormatter;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;

/** One {@code iidca} subcommand: its options, its usage line and its work. */
abstract class Command {

  /** Where step-like progress lines go: standard error, as step prints them. */
  protected final PrintStream out;
  protected final PrintStream err;
  protected final Environment environment;

  Command(Environment environment) {
    this.environment = environment;
    this.out = environment.out();
    this.err = environment.err();
  }

  /** The words that select this command, such as {@code provisioner add}. */
  abstract String name();

  /** The arguments after the options, such as {@code SUBJECT CRT KEY}. */
  abstract String arguments();

  abstract String summary();

  abstract Options options();

  /** Runs the command; returns the exit status. */
  abstract int run(CommandLine line) throws Exception;

  int execute(String[] args) throws Exception {
    CommandLine line;
    try {
      line = new DefaultParser().parse(options(), args);
    } catch (ParseException e) {
      throw new UsageException(e.getMessage());
    }
    if (line.hasOption("help")) {
      printUsage(out);
      return 0;
    }
    return run(line);
  }

  void printUsage(PrintStream stream) {
    HelpFormatter formatter = new HelpFormatter();
    formatter.setWidth(100);
    java.io.PrintWriter writer = new java.io.PrintWriter(stream, true,
        StandardCharsets.UTF_8);
    formatter.printHelp(writer, 100, "iidca " + name() + " [options] " + arguments(),
        summary(), options(), 2, 4, null, false);
    writer.flush();
  }

  /** Prints a completed step as step does: a check mark and the result. */
  protected void done(String line) {
    err.println("\u2714 " + line);
  }

  protected static List<String> positional(CommandLine line, int count, String names)
      throws UsageException {
    List<String> args = Arrays.asList(line.getArgs());
    if (args.size() != count) {
      throw new UsageException("expected " + names + ", got " + args.size() + " argument"
          + (args.size() == 1 ? "" : "s") + (args.isEmpty() ? "" : ": " + args));
    }
    return args;
  }

  /** Reads a password: the file's first line without its line ending. */
  protected char[] readPassword(CommandLine line) throws Exception {
    String file = line.getOptionValue("password-file");
    if (file != null) {
      try {
        String text = Files.readString(Path.of(file), StandardCharsets.UTF_8);
        String first = text.lines().findFirst().orElse("");
        if (first.isEmpty()) {
          throw new UsageException("password file " + file + " is empty");
        }
        return first.toCharArray();
      } catch (NoSuchFileException e) {
        throw new UsageException("password file " + file + " not found");
      }
    }
    String fromEnvironment = environment.variable("IIDCA_PASSWORD");
    if (fromEnvironment != null && !fromEnvironment.isEmpty()) {
      return fromEnvironment.toCharArray();
    }
    throw new UsageException("a password is required: pass --password-file FILE or set"
        + " IIDCA_PASSWORD");
  }

  /**
   * Parses the CA's URL from --ca-url or, when the option is absent, from the ca-url that
   * bootstrap or init wrote to config/defaults.yaml.
   *
   * @throws UsageException unless the URL is https:// with a host
   */
  static URI caUrl(CommandLine line, ClientDefaults defaults, CaFiles files)
      throws UsageException {
    if (line.hasOption("ca-url")) {
      return httpsUrl(line.getOptionValue("ca-url"), "--ca-url", "");
    }
    return httpsUrl(defaults.caUrl(), "ca-url in " + files.defaults(),
        "; pass --ca-url or run iidca bootstrap again");
  }

  /**
   * Parses a CA's URL. {@code source} names where the value came from in the error message,
   * and a non-empty {@code hint} ends that message with what else to do.
   */
  static URI httpsUrl(String value, String source, String hint) throws UsageException {
    if (value == null || value.isBlank()) {
      throw new UsageException(source + " is missing: give the CA's https:// URL, such as"
          + " https://ca.local" + hint);
    }
    URI uri;
    try {
      uri = new URI(value);
    } catch (URISyntaxException e) {
      throw new UsageException(source + " " + value + " is not a URL: give the CA's https://"
          + " URL, such as https://ca.local" + hint);
    }
    if (!"https".equals(uri.getScheme()) || uri.getHost() == null) {
      throw new UsageException(source + " " + value + " must be an https:// URL with a host,"
          + " such as https://ca.local" + hint);
    }
    return uri;
  }
}
