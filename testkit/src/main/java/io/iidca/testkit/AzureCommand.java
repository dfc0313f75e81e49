package io.iidca.testkit;

import static io.iidca.testkit.CommandOptions.parseListen;
import static io.iidca.testkit.CommandOptions.required;
import static io.iidca.testkit.CommandOptions.valued;
import static io.iidca.testkit.CommandOptions.value;

import io.iidca.testkit.EmulatorMain.UsageException;
import io.iidca.testkit.azure.AzureInstance;
import io.iidca.testkit.azure.AzureMetadataEmulator;
import io.iidca.testkit.azure.AzureTestSigner;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.UUID;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/**
 * The {@code azure} command of {@link EmulatorMain}: parses its options, starts an {@link
 * AzureMetadataEmulator} and writes the test root and intermediate that sign attested
 * documents. Not thread-safe; one use per run.
 */
final class AzureCommand {

  static final String DEFAULT_LISTEN = "127.0.0.1:8171";

  static final String USAGE = String.join("\n",
      "Usage: iidca-emulator azure --tenant ID --roots-out FILE [options]",
      "",
      "Serves an emulated Azure Instance Metadata Service (managed-identity tokens, attested",
      "documents, compute metadata) and the tenant's OpenID configuration and keys, signing",
      "with test keys generated at start. Stop it with SIGTERM or SIGINT.",
      "",
      "Options:",
      "  --tenant ID             Entra tenant id, a GUID (required)",
      "  --roots-out FILE        PEM file to write the test root and intermediate that sign",
      "                          attested documents to, for a provisioner's azure.roots",
      "                          (required)",
      "  --listen HOST:PORT      address to listen on; port 0 picks a free port",
      "                          (default " + DEFAULT_LISTEN + ")",
      "  --subscription ID       subscription id, a GUID (default random)",
      "  --resource-group NAME   resource group (default iidca-test-rg)",
      "  --vm-name NAME          VM name (default vm- and 8 random hex digits)",
      "  --vm-id ID              VM id, a GUID (default random)",
      "  --location NAME         Azure region (default eastus)",
      "  -h, --help              print this help",
      "");

  private static final Options OPTIONS = new Options()
      .addOption(valued("tenant", "ID"))
      .addOption(valued("roots-out", "FILE"))
      .addOption(valued("listen", "HOST:PORT"))
      .addOption(valued("subscription", "ID"))
      .addOption(valued("resource-group", "NAME"))
      .addOption(valued("vm-name", "NAME"))
      .addOption(valued("vm-id", "ID"))
      .addOption(valued("location", "NAME"));

  private final InetSocketAddress listen;
  private final Path rootsOut;
  private final AzureInstance instance;

  private AzureCommand(CommandLine line) throws UsageException {
    this.listen = parseListen(value(line, "listen", DEFAULT_LISTEN));
    this.rootsOut = Path.of(required(line, "roots-out"));
    this.instance = parseInstance(line);
  }

  /**
   * Parses the options that follow {@code azure}.
   *
   * @throws UsageException naming the option and value when an option is unknown, missing,
   *     repeated or invalid
   */
  static AzureCommand parse(String[] args) throws UsageException {
    return new AzureCommand(CommandOptions.parse(OPTIONS, args));
  }

  /**
   * Starts the emulator, writes the roots file, and prints one line with the endpoint.
   *
   * @throws IOException when the address cannot be bound or the roots file not written
   */
  AzureMetadataEmulator start(PrintStream out) throws IOException {
    AzureMetadataEmulator emulator = CommandOptions.startEmulator(
        () -> AzureMetadataEmulator.builder()
            .listen(listen)
            .signer(AzureTestSigner.generate())
            .instance(instance)
            .start());
    CommandOptions.writeOutput("roots-out", rootsOut, emulator.signer().rootsPem(),
        emulator::close);
    out.printf("iidca-emulator: Azure metadata service on %s (tenant %s, subscription %s,"
        + " vm %s, vmId %s); OpenID configuration %s%n", emulator.endpoint(),
        instance.tenantId(), instance.subscriptionId(), instance.vmName(), instance.vmId(),
        emulator.openIdConfigUrl());
    out.flush();
    return emulator;
  }

  private static AzureInstance parseInstance(CommandLine line) throws UsageException {
    String tenant = required(line, "tenant");
    try {
      AzureInstance random = AzureInstance.random(tenant,
          value(line, "subscription", UUID.randomUUID().toString()));
      return new AzureInstance(tenant, random.subscriptionId(),
          value(line, "resource-group", random.resourceGroup()),
          value(line, "vm-name", random.vmName()),
          value(line, "vm-id", random.vmId()),
          random.objectId(),
          value(line, "location", random.location()),
          random.environment());
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }
}
