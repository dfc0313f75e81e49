package io.iidca.testkit;

import static io.iidca.testkit.CommandOptions.parseInstant;
import static io.iidca.testkit.CommandOptions.parseListen;
import static io.iidca.testkit.CommandOptions.required;
import static io.iidca.testkit.CommandOptions.valued;
import static io.iidca.testkit.CommandOptions.value;

import io.iidca.testkit.EmulatorMain.UsageException;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsMetadataEmulator;
import io.iidca.testkit.aws.AwsTestSigner;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Instant;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

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
    return new AwsCommand(CommandOptions.parse(OPTIONS, args));
  }

  /**
   * Starts the emulator, writes the certificates, and prints one line with the endpoint.
   *
   * @throws IOException when the address cannot be bound or the certificate file not written
   */
  AwsMetadataEmulator start(PrintStream out) throws IOException {
    AwsMetadataEmulator emulator = CommandOptions.startEmulator(
        () -> AwsMetadataEmulator.builder()
            .listen(listen)
            .signer(AwsTestSigner.generate())
            .instance(instance)
            .imdsV2Only(imdsV2Only)
            .dropTokenPut(dropTokenPut)
            .start());
    CommandOptions.writeOutput("certificate-out", certificateOut,
        emulator.signer().certificatesPem(), emulator::close);
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
          parseInstant(value(line, "pending-time", null), random.pendingTime(),
              "pending-time", "2022-03-25T20:07:16Z"),
          random.instanceType(),
          random.imageId());
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }
}
