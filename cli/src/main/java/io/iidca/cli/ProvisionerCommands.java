package io.iidca.cli;

import io.iidca.ca.aws.AwsCertificates;
import io.iidca.ca.config.CaConfig;
import io.iidca.ca.config.ConfigException;
import io.iidca.ca.config.ConfigFile;
import io.iidca.ca.config.Durations;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.io.AtomicFiles;
import io.iidca.ca.pki.CaFiles;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.policy.NamePolicy;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code iidca provisioner add|update|list|remove}: edit the provisioners in {@code
 * config/ca.yaml}. A running CA reads the change on SIGHUP or when it restarts.
 */
final class ProvisionerCommands {

  static final String APPLY_HINT = "  send iidca serve SIGHUP (kill -HUP, or systemctl reload"
      + " iidca) or restart it to apply the change";

  private ProvisionerCommands() {}

  /** {@code iidca provisioner add NAME --type AWS --aws-account ID ...}. */
  static final class Add extends Command {

    Add(Environment environment) {
      super(environment);
    }

    @Override
    String name() {
      return "provisioner add";
    }

    @Override
    String arguments() {
      return "NAME";
    }

    @Override
    String summary() {
      return "Add a provisioner to the CA's configuration.";
    }

    @Override
    Options options() {
      Options options = new Options()
          .addOption(Option.builder().longOpt("type").hasArg().argName("TYPE")
              .desc("provisioner type: AWS, GCP or Azure").get())
          .addOption(Option.builder().longOpt("aws-account").hasArg().argName("ID")
              .desc("AWS account id (12 digits) allowed to enroll; repeat for several").get())
          .addOption(Option.builder().longOpt("disable-custom-sans")
              .desc("issue only the names the cloud vouches for: AWS private IP and DNS name,"
                  + " GCP internal DNS names, Azure VM name").get())
          .addOption(Option.builder().longOpt("disable-trust-on-first-use")
              .desc("allow an instance to enroll more than once").get())
          .addOption(Option.builder().longOpt("instance-age").hasArg().argName("DURATION")
              .desc("reject instances started longer ago than this, such as 1h").get())
          .addOption(Option.builder().longOpt("aws-certificates").hasArg().argName("FILE")
              .desc("PEM file of extra certificates to trust beside AWS's published ones,"
                  + " such as a metadata emulator's").get())
          .addOption(Option.builder().longOpt("disable-renewal")
              .desc("refuse renewal: instances enroll again with their identity").get())
          .addOption(Option.builder().longOpt("allow-renewal-after-expiry")
              .desc("renew expired certificates that are not revoked").get())
          .addOption(Option.builder().longOpt("reattest-after").hasArg().argName("DURATION")
              .desc("refuse renewal once the last identity check is older than this, such as"
                  + " 7d; the instance then enrolls again with a fresh document").get())
          .addOption(Option.builder().longOpt("allow-restarted-instances")
              .desc("let a registered instance enroll once more after each start").get())
          .addOption(Option.builder().longOpt("aws-signature-forms").hasArg()
              .argName("LIST").desc("signature forms accepted, comma-separated, from rsa2048,"
                  + " signature, pkcs7 (default rsa2048,signature)").get())
          .addOption(Option.builder().longOpt("gcp-require-key-binding")
              .desc("accept only GCP tokens whose audience carries the digest of the CSR's"
                  + " key, as iidca's client requests them").get())
          .addOption(Option.builder().longOpt("azure-require-attestation")
              .desc("accept only Azure requests with an attested document over a CA nonce")
              .get())
          .addOption(Option.builder().longOpt("help").desc("show this help").get());
      CloudOptions.add(options);
      return NamePolicyOptions.add(options, "; repeat for several");
    }

    @Override
    int run(CommandLine line) throws Exception {
      String name = positional(line, 1, "the provisioner's NAME").get(0);
      String type = line.getOptionValue("type");
      if (type == null) {
        throw new UsageException("--type is required: AWS, GCP or Azure");
      }
      try {
        type = ProvisionerConfig.normalizeType(type);
      } catch (ConfigException e) {
        throw new UsageException("--type " + line.getOptionValue("type")
            + " is not supported: use AWS, GCP or Azure");
      }
      CloudOptions.checkType(line, type);
      CaFiles files = environment.files();
      CaConfig config = ConfigFile.load(files.base());
      if (config.provisioner(name).isPresent()) {
        throw new UsageException("provisioner '" + name + "' already exists: remove it first"
            + " with iidca provisioner remove");
      }
      List<String> accounts = line.hasOption("aws-account")
          ? List.of(line.getOptionValues("aws-account")) : List.of();
      List<String> forms = line.hasOption("aws-signature-forms")
          ? signatureForms(line) : ProvisionerConfig.DEFAULT_AWS_FORMS;
      Duration instanceAge = duration(line, "instance-age", false, null);
      Duration reattestAfter = duration(line, "reattest-after", false, null);
      NamePolicy namePolicy = NamePolicyOptions.apply(line, NamePolicy.NONE);
      List<String> certificates = new ArrayList<>();
      String rootsFile = "config/azure-roots/" + CloudOptions.slug(name) + ".pem";
      var gcp = type.equals(ProvisionerConfig.TYPE_GCP)
          ? CloudOptions.gcp(line, null, line.hasOption("gcp-require-key-binding")) : null;
      var azure = type.equals(ProvisionerConfig.TYPE_AZURE)
          ? CloudOptions.azure(line, null, line.hasOption("azure-require-attestation"),
              line.hasOption("azure-roots") ? List.of(rootsFile) : List.of())
          : null;
      ProvisionerConfig provisioner = new ProvisionerConfig(name, type, config.lifetime(),
          line.hasOption("disable-custom-sans"), line.hasOption("disable-trust-on-first-use"),
          instanceAge, accounts, forms, certificates, line.hasOption("disable-renewal"),
          line.hasOption("allow-renewal-after-expiry"), reattestAfter,
          line.hasOption("allow-restarted-instances"), namePolicy, gcp, azure);
      try {
        provisioner.validate("provisioner");
      } catch (ConfigException e) {
        throw new UsageException(flagMessage(e));
      }
      if (line.hasOption("aws-certificates")) {
        certificates.add(copyCertificates(files, name, line.getOptionValue("aws-certificates")));
        provisioner = new ProvisionerConfig(name, type, config.lifetime(),
            provisioner.disableCustomSans(), provisioner.disableTrustOnFirstUse(), instanceAge,
            accounts, forms, certificates, provisioner.disableRenewal(),
            provisioner.allowRenewalAfterExpiry(), reattestAfter,
            provisioner.allowRestartedInstances(), namePolicy, gcp, azure);
      }
      if (line.hasOption("azure-roots")) {
        CloudOptions.copyAzureRoots(files, name, line.getOptionValue("azure-roots"));
      }
      ConfigFile.save(files.base(), config.withProvisioner(provisioner));
      done("Provisioner: " + name + " (" + type + ")");
      err.println(APPLY_HINT);
      return 0;
    }

    /** Rewords a configuration error in terms of the flag the user typed. */
    private static String flagMessage(ConfigException e) {
      String key = e.key() == null ? "" : e.key();
      String cloud = CloudOptions.flagMessage(e);
      if (cloud != null) {
        return cloud;
      }
      if (key.contains(".namePolicy.")) {
        return NamePolicyOptions.flagMessage(e);
      }
      if (key.endsWith("awsAccounts")) {
        return e.getMessage().replace("for provisioner.awsAccounts", "for --aws-account");
      }
      if (key.endsWith("awsSignatureForms")) {
        return e.getMessage().replace("for provisioner.awsSignatureForms",
            "for --aws-signature-forms");
      }
      return e.getMessage().replace("for provisioner.", "for ");
    }

    /** Copies the PEM under the iidca path, so the CA does not depend on the original file. */
    private static String copyCertificates(CaFiles files, String name, String source)
        throws Exception {
      List<X509Certificate> certificates;
      try {
        certificates = AwsCertificates.load(Path.of(source));
      } catch (RuntimeException e) {
        throw new UsageException("--aws-certificates " + source + ": " + e.getMessage());
      }
      String slug = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-")
          .replaceAll("(^-|-$)", "");
      String relative = "config/aws-certificates/" + (slug.isEmpty() ? "provisioner" : slug)
          + ".pem";
      AtomicFiles.write(files.resolve(relative), Pem.encodeChain(certificates)
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII), AtomicFiles.PUBLIC);
      return relative;
    }
  }

  /** Parses {@code --aws-signature-forms}, a comma-separated list. */
  private static List<String> signatureForms(CommandLine line) {
    return List.of(line.getOptionValue("aws-signature-forms").toLowerCase(Locale.ROOT)
        .split(","));
  }

  /**
   * Parses a duration option such as {@code --instance-age 1h}; returns {@code current} when
   * the option is absent, and null for {@code none} when {@code noneAllowed}.
   */
  private static Duration duration(CommandLine line, String option, boolean noneAllowed,
      Duration current) throws UsageException {
    if (!line.hasOption(option)) {
      return current;
    }
    String value = line.getOptionValue(option);
    if (noneAllowed && value.equalsIgnoreCase("none")) {
      return null;
    }
    try {
      return Durations.parse(value);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--" + option + ": " + e.getMessage());
    }
  }

  /** {@code iidca provisioner update NAME [options]}: changes only the options given. */
  static final class Update extends Command {

    /**
     * The on/off options, which take an optional {@code =true} or {@code =false}, and what
     * turning each on does.
     */
    private static final Map<String, String> SWITCHES = switches();

    Update(Environment environment) {
      super(environment);
    }

    @Override
    String name() {
      return "provisioner update";
    }

    @Override
    String arguments() {
      return "NAME";
    }

    @Override
    String summary() {
      return "Change a provisioner's options given here; the others keep their values.";
    }

    @Override
    Options options() {
      Options options = new Options()
          .addOption(Option.builder().longOpt("aws-account").hasArg().argName("ID")
              .desc("AWS account id (12 digits) allowed to enroll; repeat for several. Replaces"
                  + " the provisioner's accounts").get())
          .addOption(Option.builder().longOpt("instance-age").hasArg().argName("DURATION")
              .desc("reject instances started longer ago than this, such as 1h; none removes"
                  + " the limit").get())
          .addOption(Option.builder().longOpt("reattest-after").hasArg().argName("DURATION")
              .desc("refuse renewal once the last identity check is older than this, such as"
                  + " 7d; none removes the limit").get())
          .addOption(Option.builder().longOpt("aws-certificates").hasArg().argName("FILE")
              .desc("PEM file of extra certificates to trust beside AWS's published ones;"
                  + " replaces the provisioner's copy").get())
          .addOption(Option.builder().longOpt("aws-signature-forms").hasArg()
              .argName("LIST").desc("signature forms accepted, comma-separated, from rsa2048,"
                  + " signature, pkcs7").get())
          .addOption(Option.builder().longOpt("clear-name-policy")
              .desc("empty the provisioner's eight name lists before the list options given"
                  + " apply").get())
          .addOption(Option.builder().longOpt("help").desc("show this help").get());
      CloudOptions.add(options);
      SWITCHES.forEach((option, effect) -> options.addOption(Option.builder().longOpt(option)
          .hasArg().optionalArg(true).argName("true|false").desc(effect + "; --" + option
              + "=false turns it off").get()));
      return NamePolicyOptions.add(options, "; repeat for several. Replaces the"
          + " provisioner's list of this kind");
    }

    private static Map<String, String> switches() {
      Map<String, String> switches = new LinkedHashMap<>();
      switches.put("disable-custom-sans", "issue only the names the cloud vouches for");
      switches.put("disable-trust-on-first-use", "allow an instance to enroll more than once");
      switches.put("disable-renewal", "refuse renewal: instances enroll again instead");
      switches.put("allow-renewal-after-expiry", "renew expired certificates that are not"
          + " revoked");
      switches.put("allow-restarted-instances", "let a registered instance enroll once more"
          + " after each start");
      switches.put("gcp-require-key-binding", "accept only GCP tokens bound to the CSR's key");
      switches.put("azure-require-attestation", "accept only Azure requests with an attested"
          + " document");
      return switches;
    }

    @Override
    int run(CommandLine line) throws Exception {
      for (String option : SWITCHES.keySet()) {
        // Reports a NAME taken as a switch's value before the missing NAME.
        flag(line, option, false);
      }

      String name = positional(line, 1, "the provisioner's NAME").get(0);
      if (line.getOptions().length == 0) {
        throw new UsageException("nothing to change: give the options to change, such as"
            + " --allow-dns '*.internal.example.com'");
      }
      CaFiles files = environment.files();
      CaConfig config = ConfigFile.load(files.base());
      ProvisionerConfig old = config.provisioner(name).orElseThrow(() -> new UsageException(
          "provisioner '" + name + "' not found; iidca provisioner list shows the configured"
              + " ones"));

      CloudOptions.checkType(line, old.type());
      NamePolicy namePolicy = NamePolicyOptions.apply(line,
          line.hasOption("clear-name-policy") ? NamePolicy.NONE : old.namePolicy());
      var gcp = old.isGcp() ? CloudOptions.gcp(line, old.gcp(), flag(line,
          "gcp-require-key-binding", old.gcp().requireKeyBinding())) : null;
      var azure = old.isAzure() ? CloudOptions.azure(line, old.azure(), flag(line,
          "azure-require-attestation", old.azure().requireAttestation()),
          line.hasOption("azure-roots")
              ? List.of("config/azure-roots/" + CloudOptions.slug(name) + ".pem") : null)
          : null;
      ProvisionerConfig updated = new ProvisionerConfig(name, old.type(), old.lifetime(),
          flag(line, "disable-custom-sans", old.disableCustomSans()),
          flag(line, "disable-trust-on-first-use", old.disableTrustOnFirstUse()),
          duration(line, "instance-age", true, old.instanceAge()),
          line.hasOption("aws-account") ? List.of(line.getOptionValues("aws-account"))
              : old.awsAccounts(),
          line.hasOption("aws-signature-forms") ? signatureForms(line)
              : old.awsSignatureForms(),
          old.awsCertificates(),
          flag(line, "disable-renewal", old.disableRenewal()),
          flag(line, "allow-renewal-after-expiry", old.allowRenewalAfterExpiry()),
          duration(line, "reattest-after", true, old.reattestAfter()),
          flag(line, "allow-restarted-instances", old.allowRestartedInstances()),
          namePolicy, gcp, azure);

      try {
        updated.validate("provisioner");
      } catch (ConfigException e) {
        throw new UsageException(Add.flagMessage(e));
      }

      if (line.hasOption("azure-roots")) {
        CloudOptions.copyAzureRoots(files, name, line.getOptionValue("azure-roots"));
      }
      if (line.hasOption("aws-certificates")) {
        updated = withCertificates(updated, List.of(Add.copyCertificates(files, name,
            line.getOptionValue("aws-certificates"))));
      }
      ConfigFile.save(files.base(), config.withProvisionerReplaced(updated));
      done("Updated provisioner: " + name + " (" + updated.type() + ")");
      err.println(APPLY_HINT);
      return 0;
    }

    /** Reads an on/off option: absent keeps {@code current}, bare or =true sets it. */
    private static boolean flag(CommandLine line, String option, boolean current)
        throws UsageException {
      if (!line.hasOption(option)) {
        return current;
      }
      String value = line.getOptionValue(option);
      if (value == null || value.equalsIgnoreCase("true")) {
        return true;
      }
      if (value.equalsIgnoreCase("false")) {
        return false;
      }
      throw new UsageException("--" + option + " takes no value, =true or =false, not '"
          + value + "'; put NAME before the options");
    }

    private static ProvisionerConfig withCertificates(ProvisionerConfig provisioner,
        List<String> certificates) {
      return new ProvisionerConfig(provisioner.name(), provisioner.type(),
          provisioner.lifetime(), provisioner.disableCustomSans(),
          provisioner.disableTrustOnFirstUse(), provisioner.instanceAge(),
          provisioner.awsAccounts(), provisioner.awsSignatureForms(), certificates,
          provisioner.disableRenewal(), provisioner.allowRenewalAfterExpiry(),
          provisioner.reattestAfter(), provisioner.allowRestartedInstances(),
          provisioner.namePolicy(), provisioner.gcp(), provisioner.azure());
    }
  }

  /** {@code iidca provisioner list}: prints the provisioners as JSON, as step does. */
  static final class ListProvisioners extends Command {

    ListProvisioners(Environment environment) {
      super(environment);
    }

    @Override
    String name() {
      return "provisioner list";
    }

    @Override
    String arguments() {
      return "";
    }

    @Override
    String summary() {
      return "List the configured provisioners and their restrictions, as JSON.";
    }

    @Override
    Options options() {
      return new Options().addOption(Option.builder().longOpt("help").desc("show this help")
          .get());
    }

    @Override
    int run(CommandLine line) throws Exception {
      positional(line, 0, "no arguments");
      CaConfig config = ConfigFile.load(environment.files().base());
      List<Object> list = new ArrayList<>();
      for (ProvisionerConfig provisioner : config.provisioners()) {
        var description = new java.util.LinkedHashMap<String, Object>(
            io.iidca.routes.server.ProvisionerDescriptions.describe(provisioner));
        if (!provisioner.awsCertificates().isEmpty()) {
          description.put("awsCertificates", provisioner.awsCertificates());
        }
        if (provisioner.gcp() != null) {
          description.put("jwksUrl", provisioner.gcp().jwksUrl());
        }
        if (provisioner.azure() != null) {
          description.put("openIdConfigUrl", provisioner.azure().effectiveOpenIdConfigUrl());
          if (!provisioner.azure().roots().isEmpty()) {
            description.put("azureRoots", provisioner.azure().roots());
          }
        }
        list.add(description);
      }
      out.println(new com.fasterxml.jackson.databind.ObjectMapper()
          .writerWithDefaultPrettyPrinter().writeValueAsString(list));
      return 0;
    }
  }

  /** {@code iidca provisioner remove NAME}. */
  static final class Remove extends Command {

    Remove(Environment environment) {
      super(environment);
    }

    @Override
    String name() {
      return "provisioner remove";
    }

    @Override
    String arguments() {
      return "NAME";
    }

    @Override
    String summary() {
      return "Remove a provisioner from the CA's configuration.";
    }

    @Override
    Options options() {
      return new Options().addOption(Option.builder().longOpt("help").desc("show this help")
          .get());
    }

    @Override
    int run(CommandLine line) throws Exception {
      String name = positional(line, 1, "the provisioner's NAME").get(0);
      CaFiles files = environment.files();
      CaConfig config = ConfigFile.load(files.base());
      if (config.provisioner(name).isEmpty()) {
        throw new UsageException("provisioner '" + name + "' not found; iidca provisioner"
            + " list shows the configured ones");
      }
      ConfigFile.save(files.base(), config.withoutProvisioner(name));
      done("Removed provisioner: " + name);
      err.println(APPLY_HINT);
      return 0;
    }
  }
}
