package io.iidca.testkit;

import static io.iidca.testkit.CommandOptions.parseInstant;
import static io.iidca.testkit.CommandOptions.parseListen;
import static io.iidca.testkit.CommandOptions.required;
import static io.iidca.testkit.CommandOptions.valued;
import static io.iidca.testkit.CommandOptions.value;

import io.iidca.testkit.EmulatorMain.UsageException;
import io.iidca.testkit.gcp.GcpInstance;
import io.iidca.testkit.gcp.GcpMetadataEmulator;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/**
 * The {@code gcp} command of {@link EmulatorMain}: parses its options, starts a
 * {@link GcpMetadataEmulator} and optionally writes its public key set to a file. Not
 * thread-safe; one use per run.
 */
final class GcpCommand {

  static final String DEFAULT_LISTEN = "127.0.0.1:8170";
  static final String DEFAULT_ZONE = "us-central1-a";

  static final String USAGE = String.join("\n",
      "Usage: iidca-emulator gcp --project ID [options]",
      "",
      "Serves an emulated Compute Engine metadata server whose instance identity tokens are",
      "signed with an RSA test key generated at start, and the key set at /oauth2/v3/certs.",
      "Point a GCP provisioner's jwksUrl at http://HOST:PORT/oauth2/v3/certs and the client's",
      "GCE_METADATA_HOST at HOST:PORT. Stop it with SIGTERM or SIGINT.",
      "",
      "Options:",
      "  --project ID            project id in the tokens (required)",
      "  --project-number N      project number (default random, 12 digits)",
      "  --zone Z                zone (default " + DEFAULT_ZONE + ")",
      "  --instance-id N         numeric instance id (default random, 19 digits)",
      "  --name NAME             instance name (default instance-1)",
      "  --service-account EMAIL service account email (default the project's Compute",
      "                          Engine default service account)",
      "  --creation-time T       instance creation time, ISO-8601 such as",
      "                          2024-05-01T12:00:00Z (default now)",
      "  --listen HOST:PORT      address to listen on; port 0 picks a free port",
      "                          (default " + DEFAULT_LISTEN + ")",
      "  --jwks-out FILE         JSON file to write the public key set to",
      "  -h, --help              print this help",
      "");

  private static final Options OPTIONS = new Options()
      .addOption(valued("project", "ID"))
      .addOption(valued("project-number", "N"))
      .addOption(valued("zone", "Z"))
      .addOption(valued("instance-id", "N"))
      .addOption(valued("name", "NAME"))
      .addOption(valued("service-account", "EMAIL"))
      .addOption(valued("creation-time", "T"))
      .addOption(valued("listen", "HOST:PORT"))
      .addOption(valued("jwks-out", "FILE"));

  private final InetSocketAddress listen;
  private final Path jwksOut;
  private final GcpInstance instance;

  private GcpCommand(CommandLine line) throws UsageException {
    this.listen = parseListen(value(line, "listen", DEFAULT_LISTEN));
    String jwks = value(line, "jwks-out", null);
    this.jwksOut = jwks == null ? null : Path.of(jwks);
    this.instance = parseInstance(line);
  }

  /**
   * Parses the options that follow {@code gcp}.
   *
   * @throws UsageException naming the option and value when an option is unknown, missing,
   *     repeated or invalid
   */
  static GcpCommand parse(String[] args) throws UsageException {
    return new GcpCommand(CommandOptions.parse(OPTIONS, args));
  }

  /**
   * Starts the emulator, writes the key set if asked, and prints one line with the endpoint.
   *
   * @throws IOException when the address cannot be bound or the key set file not written
   */
  GcpMetadataEmulator start(PrintStream out) throws IOException {
    GcpMetadataEmulator emulator = CommandOptions.startEmulator(
        () -> GcpMetadataEmulator.builder().listen(listen).instance(instance).start());
    if (jwksOut != null) {
      CommandOptions.writeOutput("jwks-out", jwksOut, emulator.signer().publicKeys().toString(),
          emulator::close);
    }
    out.printf("iidca-emulator: GCP metadata server on %s (project %s, zone %s, instance %s %s),"
            + " keys at %s%n", emulator.endpoint(), instance.projectId(), instance.zone(),
        instance.instanceId(), instance.instanceName(), emulator.jwksUrl());
    out.flush();
    return emulator;
  }

  private static GcpInstance parseInstance(CommandLine line) throws UsageException {
    String project = required(line, "project");
    String zone = value(line, "zone", DEFAULT_ZONE);
    try {
      GcpInstance random = GcpInstance.random(project, zone);
      long number = parseNumber(value(line, "project-number", null), random.projectNumber());
      String account = value(line, "service-account",
          number + "-compute@developer.gserviceaccount.com");
      return new GcpInstance(project, number, zone,
          value(line, "instance-id", random.instanceId()),
          value(line, "name", random.instanceName()),
          parseInstant(value(line, "creation-time", null), random.creationTime(),
              "creation-time", "2024-05-01T12:00:00Z"),
          account, random.serviceAccountId());
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  private static long parseNumber(String text, long defaultValue) throws UsageException {
    if (text == null) {
      return defaultValue;
    }
    if (!text.matches("[1-9][0-9]{0,17}")) {
      throw new UsageException("invalid --project-number '" + text
          + "', expected a positive decimal number such as 123456789012");
    }
    return Long.parseLong(text);
  }
}
