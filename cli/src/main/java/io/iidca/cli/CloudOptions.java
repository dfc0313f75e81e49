package io.iidca.cli;

import io.iidca.ca.config.AzureOptions;
import io.iidca.ca.config.ConfigException;
import io.iidca.ca.config.Durations;
import io.iidca.ca.config.GcpOptions;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.io.AtomicFiles;
import io.iidca.ca.pki.CaFiles;
import io.iidca.ca.pki.Pem;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * The options of {@code provisioner add|update} that set a GCP or an Azure provisioner's
 * restrictions and key sources, and the rewording of their configuration errors.
 */
final class CloudOptions {

  /** Options that hold one value and map to a YAML key under gcp or azure. */
  private static final Map<String, String> FLAG_KEYS = Map.ofEntries(
      Map.entry("gcp.projectIds", "--gcp-project"),
      Map.entry("gcp.serviceAccounts", "--gcp-service-account"),
      Map.entry("gcp.zones", "--gcp-zone"),
      Map.entry("gcp.jwksUrl", "--gcp-jwks-url"),
      Map.entry("gcp.leeway", "--gcp-leeway"),
      Map.entry("azure.tenantId", "--azure-tenant"),
      Map.entry("azure.cloud", "--azure-cloud"),
      Map.entry("azure.audience", "--azure-audience"),
      Map.entry("azure.subscriptionIds", "--azure-subscription-id"),
      Map.entry("azure.resourceGroups", "--azure-resource-group"),
      Map.entry("azure.objectIds", "--azure-object-id"),
      Map.entry("azure.openIdConfigUrl", "--azure-openid-config-url"),
      Map.entry("azure.roots", "--azure-roots"),
      Map.entry("awsAccounts", "--aws-account"),
      Map.entry("awsSignatureForms", "--aws-signature-forms"));

  private static final List<String> AWS_ONLY = List.of("aws-account", "aws-signature-forms",
      "aws-certificates");
  private static final List<String> GCP_ONLY = List.of("gcp-project", "gcp-service-account",
      "gcp-zone", "gcp-jwks-url", "gcp-leeway", "gcp-require-key-binding");
  private static final List<String> AZURE_ONLY = List.of("azure-tenant", "azure-cloud",
      "azure-audience", "azure-subscription-id", "azure-resource-group", "azure-object-id",
      "azure-openid-config-url", "azure-require-attestation", "azure-roots");

  private CloudOptions() {}

  /**
   * Adds the GCP and Azure options. Lists replace the provisioner's list on update; switches
   * are added by the caller, because add and update spell them differently.
   */
  static Options add(Options options) {
    return options
        .addOption(value("gcp-project", "ID", "GCP project id whose instances may enroll;"
            + " repeat for several"))
        .addOption(value("gcp-service-account", "EMAIL", "GCP service account (email or"
            + " numeric id) that may enroll; repeat for several"))
        .addOption(value("gcp-zone", "ZONE", "GCP zone (us-central1-a) or region (us-central1)"
            + " the instance must run in; repeat for several"))
        .addOption(value("gcp-jwks-url", "URL", "where Google's signing keys are fetched"
            + " (default " + GcpOptions.GOOGLE_JWKS_URL + "), such as a metadata emulator's"))
        .addOption(value("gcp-leeway", "DURATION", "clock skew tolerated on a GCP token's exp"
            + " and iat (default 1m, at most 5m)"))
        .addOption(value("azure-tenant", "ID", "Microsoft Entra tenant id (a GUID) whose"
            + " managed-identity tokens are accepted"))
        .addOption(value("azure-cloud", "NAME", "Azure cloud: "
            + String.join(", ", AzureOptions.CLOUDS) + " (default " + AzureOptions.PUBLIC_CLOUD
            + ")"))
        .addOption(value("azure-audience", "URL", "token audience required (default the"
            + " cloud's Resource Manager URL, such as https://management.azure.com/)"))
        .addOption(value("azure-subscription-id", "ID", "Azure subscription whose VMs may"
            + " enroll; repeat for several"))
        .addOption(value("azure-resource-group", "NAME", "Azure resource group whose VMs may"
            + " enroll; repeat for several"))
        .addOption(value("azure-object-id", "ID", "object id (oid) of a managed identity that"
            + " may enroll; repeat for several"))
        .addOption(value("azure-openid-config-url", "URL", "the tenant's OpenID configuration"
            + " (default on the cloud's login host), such as a metadata emulator's"))
        .addOption(value("azure-roots", "FILE", "PEM file of extra certificates for attested"
            + " documents beside Microsoft's, such as a metadata emulator's: self-signed ones"
            + " become roots, others intermediates"));
  }

  private static Option value(String name, String argument, String description) {
    return Option.builder().longOpt(name).hasArg().argName(argument).desc(description).get();
  }

  /**
   * Refuses options of another cloud than the provisioner's type, so that a typed
   * restriction is never silently ignored.
   */
  static void checkType(CommandLine line, String type) throws UsageException {
    check(line, type, ProvisionerConfig.TYPE_AWS, AWS_ONLY);
    check(line, type, ProvisionerConfig.TYPE_GCP, GCP_ONLY);
    check(line, type, ProvisionerConfig.TYPE_AZURE, AZURE_ONLY);
  }

  private static void check(CommandLine line, String type, String owner, List<String> names)
      throws UsageException {
    if (type.equals(owner)) {
      return;
    }
    for (String name : names) {
      if (line.hasOption(name)) {
        throw new UsageException("--" + name + " applies to " + owner + " provisioners only,"
            + " and this one is " + type);
      }
    }
  }

  /** Builds GCP options from the command line over {@code current} (null for a new one). */
  static GcpOptions gcp(CommandLine line, GcpOptions current, boolean keyBinding)
      throws UsageException {
    GcpOptions base = current != null ? current
        : new GcpOptions(List.of(), List.of(), List.of(), null, null, false);
    return new GcpOptions(
        list(line, "gcp-project", base.projectIds()),
        list(line, "gcp-service-account", base.serviceAccounts()),
        list(line, "gcp-zone", base.zones()),
        line.hasOption("gcp-jwks-url") ? line.getOptionValue("gcp-jwks-url") : base.jwksUrl(),
        line.hasOption("gcp-leeway") ? duration(line, "gcp-leeway") : base.leeway(),
        keyBinding);
  }

  /**
   * Builds Azure options from the command line over {@code current} (null for a new one).
   * {@code roots} is the list of root files already copied under the iidca path.
   */
  static AzureOptions azure(CommandLine line, AzureOptions current, boolean attestation,
      List<String> roots) {
    AzureOptions base = current != null ? current
        : new AzureOptions(null, null, null, List.of(), List.of(), List.of(), null, false,
            List.of());
    String cloud = line.hasOption("azure-cloud") ? cloudName(line.getOptionValue("azure-cloud"))
        : base.cloud();
    return new AzureOptions(
        line.hasOption("azure-tenant") ? line.getOptionValue("azure-tenant") : base.tenantId(),
        cloud,
        line.hasOption("azure-audience") ? line.getOptionValue("azure-audience")
            : base.audience(),
        list(line, "azure-subscription-id", base.subscriptionIds()),
        list(line, "azure-resource-group", base.resourceGroups()),
        list(line, "azure-object-id", base.objectIds()),
        line.hasOption("azure-openid-config-url")
            ? line.getOptionValue("azure-openid-config-url") : base.openIdConfigUrl(),
        attestation,
        roots != null ? roots : base.roots());
  }

  /** Accepts a cloud name in any case, so that azurepubliccloud works as typed. */
  private static String cloudName(String typed) {
    for (String cloud : AzureOptions.CLOUDS) {
      if (cloud.equalsIgnoreCase(typed.trim())) {
        return cloud;
      }
    }
    return typed;
  }

  private static List<String> list(CommandLine line, String option, List<String> current) {
    return line.hasOption(option) ? List.of(line.getOptionValues(option)) : current;
  }

  private static Duration duration(CommandLine line, String option) throws UsageException {
    try {
      return Durations.parse(line.getOptionValue(option));
    } catch (IllegalArgumentException e) {
      throw new UsageException("--" + option + ": " + e.getMessage());
    }
  }

  /**
   * Copies a PEM file of extra Azure roots under the iidca path, so that the CA does not
   * depend on the original file, and returns its path relative to the iidca path.
   */
  static String copyAzureRoots(CaFiles files, String name, String source) throws Exception {
    List<X509Certificate> certificates;
    try {
      certificates = Pem.readCertificates(Path.of(source));
    } catch (java.nio.file.NoSuchFileException e) {
      throw new UsageException("--azure-roots " + source + ": file not found");
    } catch (java.io.IOException | java.security.cert.CertificateException
        | IllegalArgumentException e) {
      throw new UsageException("--azure-roots " + source + ": not a PEM file of certificates: "
          + e.getMessage());
    }
    if (certificates.isEmpty()) {
      throw new UsageException("--azure-roots " + source + ": contains no PEM certificate");
    }
    String relative = "config/azure-roots/" + slug(name) + ".pem";
    AtomicFiles.write(files.resolve(relative), Pem.encodeChain(certificates)
        .getBytes(StandardCharsets.US_ASCII), AtomicFiles.PUBLIC);
    return relative;
  }

  static String slug(String name) {
    String slug = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-")
        .replaceAll("(^-|-$)", "");
    return slug.isEmpty() ? "provisioner" : slug;
  }

  /**
   * Rewords a configuration error about a cloud option in terms of the flag, so that
   * {@code for provisioner.gcp.projectIds} reads {@code for --gcp-project}; returns null when
   * the key is not one of these options.
   */
  static String flagMessage(ConfigException e) {
    String key = e.key() == null ? "" : e.key();
    for (Map.Entry<String, String> entry : FLAG_KEYS.entrySet()) {
      if (key.equals("provisioner." + entry.getKey())) {
        return e.getMessage().replace("for " + key + ":", "for " + entry.getValue() + ":");
      }
    }
    return null;
  }
}
