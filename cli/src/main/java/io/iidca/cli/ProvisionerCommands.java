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
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code iidca provisioner add|list|remove}: edit the provisioners in {@code config/ca.yaml}. A
 * running CA reads the change when it restarts.
 */
final class ProvisionerCommands {

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
      return new Options()
          .addOption(Option.builder().longOpt("type").hasArg().argName("TYPE")
              .desc("provisioner type: AWS").get())
          .addOption(Option.builder().longOpt("aws-account").hasArg().argName("ID")
              .desc("AWS account id (12 digits) allowed to enroll; repeat for several").get())
          .addOption(Option.builder().longOpt("disable-custom-sans")
              .desc("issue only the names AWS vouches for: private IP and private DNS name")
              .get())
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
          .addOption(Option.builder().longOpt("help").desc("show this help").get());
    }

    @Override
    int run(CommandLine line) throws Exception {
      String name = positional(line, 1, "the provisioner's NAME").get(0);
      String type = line.getOptionValue("type");
      if (type == null) {
        throw new UsageException("--type is required: AWS");
      }
      try {
        type = ProvisionerConfig.normalizeType(type);
      } catch (ConfigException e) {
        throw new UsageException("--type " + line.getOptionValue("type")
            + " is not supported: use AWS");
      }
      CaFiles files = environment.files();
      CaConfig config = ConfigFile.load(files.base());
      if (config.provisioner(name).isPresent()) {
        throw new UsageException("provisioner '" + name + "' already exists: remove it first"
            + " with iidca provisioner remove");
      }
      List<String> accounts = line.hasOption("aws-account")
          ? List.of(line.getOptionValues("aws-account")) : List.of();
      List<String> forms = line.hasOption("aws-signature-forms")
          ? List.of(line.getOptionValue("aws-signature-forms").toLowerCase(Locale.ROOT)
              .split(","))
          : ProvisionerConfig.DEFAULT_AWS_FORMS;
      Duration instanceAge = null;
      if (line.hasOption("instance-age")) {
        try {
          instanceAge = Durations.parse(line.getOptionValue("instance-age"));
        } catch (IllegalArgumentException e) {
          throw new UsageException("--instance-age: " + e.getMessage());
        }
      }
      Duration reattestAfter = null;
      if (line.hasOption("reattest-after")) {
        try {
          reattestAfter = Durations.parse(line.getOptionValue("reattest-after"));
        } catch (IllegalArgumentException e) {
          throw new UsageException("--reattest-after: " + e.getMessage());
        }
      }
      List<String> certificates = new ArrayList<>();
      ProvisionerConfig provisioner = new ProvisionerConfig(name, type, config.lifetime(),
          line.hasOption("disable-custom-sans"), line.hasOption("disable-trust-on-first-use"),
          instanceAge, accounts, forms, certificates, line.hasOption("disable-renewal"),
          line.hasOption("allow-renewal-after-expiry"), reattestAfter,
          line.hasOption("allow-restarted-instances"));
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
            provisioner.allowRestartedInstances());
      }
      ConfigFile.save(files.base(), config.withProvisioner(provisioner));
      done("Provisioner: " + name + " (" + type + ")");
      err.println("  restart iidca serve to apply the change");
      return 0;
    }

    /** Rewords a configuration error in terms of the flag the user typed. */
    private static String flagMessage(ConfigException e) {
      String key = e.key() == null ? "" : e.key();
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
      err.println("  restart iidca serve to apply the change");
      return 0;
    }
  }
}
