package io.iidca.testkit;

import io.iidca.testkit.EmulatorMain.UsageException;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsMetadataEmulator;
import io.iidca.testkit.aws.AwsTestSigner;
import java.io.IOException;
import java.io.PrintStream;
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
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;

/**
 * The {@code aws} command of {@link EmulatorMain}: parses its options, starts an {@link
 * AwsMetadataEmulator} and writes the signer's certificates. Not thread-safe; one use per run.
 */
final class AwsCommand {

  static final String DEFAULT_LISTEN = "127.0.0.1:8169";
  static final String DEFAULT_REGION = "us-east-1";

  static final String USAGE = String.join("\n",
      "Usage: iidca-emulator aws --account ID --certificate-out FILE [options]",
      "",
      "Serves an emulated AWS EC2 instance metadata service (IMDSv1 and IMDSv2) whose instance",
      "identity document is signed with test keys generated at start. Stop it with SIGTERM or",
      "SIGINT.",
      "",
      "Options:",
      "  --account ID            12-digit AWS account id in the document (required)",
      "  --certificate-out FILE  PEM file to write the test signing certificates to, RSA then",
      "                          DSA (required)",
      "  --listen HOST:PORT      address to listen on; port 0 picks a free port",
      "                          (default " + DEFAULT_LISTEN + ")",
      "  --region R              region (default " + DEFAULT_REGION + ")",
      "  --instance-id I         instance id, i- and 8 or 17 hex digits (default random)",
      "  --private-ip IP         private IPv4 address (default random in 10.0.0.0/8)",
      "  --pending-time T        pendingTime, ISO-8601 such as 2022-03-25T20:07:16Z",
      "                          (default now)",
      "  --imds-v2-only          answer requests without a token (IMDSv1) with 401",
      "  --drop-token-put        send no response to token PUTs, as a container sees EC2 with",
      "                          a PUT response hop limit of 1",
      "  -h, --help              print this help",
      "");

  private static final Options OPTIONS = new Options()
      .addOption(valued("account", "ID"))
      .addOption(valued("certificate-out", "FILE"))
      .addOption(valued("listen", "HOST:PORT"))
      .addOption(valued("region", "R"))
      .addOption(valued("instance-id", "I"))
      .addOption(valued("private-ip", "IP"))
      .addOption(valued("pending-time", "T"))
      .addOption(Option.builder().longOpt("imds-v2-only").get())
      .addOption(Option.builder().longOpt("drop-token-put").get());

  private final InetSocketAddress listen;
  private final Path certificateOut;
  private final AwsInstance instance;
  private final boolean imdsV2Only;
  private final boolean dropTokenPut;

  private AwsCommand(CommandLine line) throws UsageException {
    this.listen = parseListen(value(line, "listen", DEFAULT_LISTEN));
    this.certificateOut = Path.of(required(line, "certificate-out"));
    this.instance = parseInstance(line);
    this.imdsV2Only = line.hasOption("imds-v2-only");
    this.dropTokenPut = line.hasOption("drop-token-put");
  }

  /**
   * Parses the options that follow {@code aws}.
   *
   * @throws UsageException naming the option and value when an option is unknown, missing,
   *     repeated or invalid
   */
  static AwsCommand parse(String[] args) throws UsageException {
    CommandLine line;
    try {
      line = DefaultParser.builder().setAllowPartialMatching(false).get().parse(OPTIONS, args);
    } catch (ParseException e) {
      throw new UsageException(e.getMessage());
    }
    if (!line.getArgList().isEmpty()) {
      throw new UsageException("unexpected argument '" + line.getArgList().get(0) + "'");
    }
    return new AwsCommand(line);
  }

  /**
   * Starts the emulator, writes the certificates, and prints one line with the endpoint.
   *
   * @throws IOException when the address cannot be bound or the certificate file not written
   */
  AwsMetadataEmulator start(PrintStream out) throws IOException {
    AwsMetadataEmulator emulator;
    try {
      emulator = AwsMetadataEmulator.builder()
          .listen(listen)
          .signer(AwsTestSigner.generate())
          .instance(instance)
          .imdsV2Only(imdsV2Only)
          .dropTokenPut(dropTokenPut)
          .start();
    } catch (UncheckedIOException e) {
      throw new IOException(e.getMessage(), e.getCause());
    }
    try {
      writeAtomically(certificateOut, emulator.signer().certificatesPem());
    } catch (IOException e) {
      emulator.close();
      throw new IOException("cannot write --certificate-out " + certificateOut + ": " + e, e);
    }
    out.printf("iidca-emulator: AWS metadata service on %s (account %s, instance %s, region %s)%n",
        emulator.endpoint(), instance.accountId(), instance.instanceId(), instance.region());
    out.flush();
    return emulator;
  }

  private static AwsInstance parseInstance(CommandLine line) throws UsageException {
    String account = required(line, "account");
    String region = value(line, "region", DEFAULT_REGION);
    try {
      AwsInstance random = AwsInstance.random(account, region);
      return new AwsInstance(account, region,
          value(line, "instance-id", random.instanceId()),
          value(line, "private-ip", random.privateIp()),
          parsePendingTime(value(line, "pending-time", null), random.pendingTime()),
          random.instanceType(),
          random.imageId());
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  private static Instant parsePendingTime(String text, Instant defaultValue)
      throws UsageException {
    if (text == null) {
      return defaultValue;
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw new UsageException("invalid --pending-time '" + text
          + "', expected an ISO-8601 instant such as 2022-03-25T20:07:16Z");
    }
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
          + "', expected HOST:PORT with a port from 0 to 65535, such as " + DEFAULT_LISTEN);
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(host), Integer.parseInt(port));
    } catch (UnknownHostException e) {
      throw new UsageException("invalid --listen '" + text + "': host '" + host
          + "' not found");
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

  private static Option valued(String name, String argument) {
    return Option.builder().longOpt(name).hasArg().argName(argument).get();
  }

  private static String required(CommandLine line, String name) throws UsageException {
    String value = value(line, name, null);
    if (value == null) {
      throw new UsageException("missing required option --" + name);
    }
    return value;
  }

  private static String value(CommandLine line, String name, String defaultValue)
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
}
