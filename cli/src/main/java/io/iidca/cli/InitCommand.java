package io.iidca.cli;

import io.iidca.ca.config.CaConfig;
import io.iidca.ca.config.ConfigFile;
import io.iidca.ca.config.DbConfig;
import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.pki.CaFiles;
import io.iidca.ca.pki.CaInitializer;
import io.iidca.ca.pki.Fingerprints;
import io.iidca.ca.policy.NamePolicy;
import io.iidca.routes.client.ClientDefaults;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code iidca init}: creates the root and intermediate CA (ECDSA P-256), both keys encrypted
 * with the password and owner-only, {@code config/ca.yaml} with the CA's name policy from the
 * {@code --allow-*} and {@code --deny-*} options, and the host's client defaults.
 * Refuses to touch an existing CA.
 */
final class InitCommand extends Command {

  InitCommand(Environment environment) {
    super(environment);
  }

  @Override
  String name() {
    return "init";
  }

  @Override
  String arguments() {
    return "";
  }

  @Override
  String summary() {
    return "Create a new CA under $IIDCA_PATH (default ~/.iidca).";
  }

  @Override
  Options options() {
    Options options = new Options()
        .addOption(Option.builder().longOpt("name").hasArg().argName("NAME")
            .desc("the CA's name, used in its certificates' subjects").get())
        .addOption(Option.builder().longOpt("dns").hasArg().argName("NAME")
            .desc("a DNS name or IP address of the CA; repeat for several").get())
        .addOption(Option.builder().longOpt("address").hasArg().argName("HOST:PORT")
            .desc("where iidca serve listens, such as :443 or 127.0.0.1:8443").get())
        .addOption(Option.builder().longOpt("password-file").hasArg().argName("FILE")
            .desc("file whose first line encrypts the CA keys (or set IIDCA_PASSWORD)").get())
        .addOption(Option.builder().longOpt("crl-url").hasArg().argName("URL")
            .desc("name this CRL URL in issued certificates, such as"
                + " https://ca.local/1.0/crl").get())
        .addOption(Option.builder().longOpt("ocsp-url").hasArg().argName("URL")
            .desc("name this OCSP responder in issued certificates, such as"
                + " https://ca.local/ocsp").get())
        .addOption(Option.builder().longOpt("help").desc("show this help").get());
    return NamePolicyOptions.add(options, ", in every certificate the CA issues; repeat for"
        + " several");
  }

  @Override
  int run(CommandLine line) throws Exception {
    positional(line, 0, "no arguments");
    String name = required(line, "name");
    String address = required(line, "address");
    String[] dnsValues = line.getOptionValues("dns");
    if (dnsValues == null) {
      throw new UsageException("--dns is required: name the host names or addresses clients"
          + " use to reach the CA");
    }
    List<String> dnsNames = new ArrayList<>();
    for (String value : dnsValues) {
      for (String part : value.split(",")) {
        if (!part.isBlank() && !dnsNames.contains(part.strip())) {
          dnsNames.add(part.strip());
        }
      }
    }
    ListenAddress listen;
    try {
      listen = ListenAddress.parse(address);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    char[] password = readPassword(line);
    CaFiles files = environment.files();

    CaConfig config = new CaConfig(name, address, dnsNames, CaFiles.ROOT_CERT,
        CaFiles.INTERMEDIATE_CERT, CaFiles.INTERMEDIATE_KEY, DbConfig.DEFAULT, Lifetime.DEFAULT,
        List.of(), line.getOptionValue("crl-url"), line.getOptionValue("ocsp-url"),
        NamePolicyOptions.apply(line, NamePolicy.NONE));
    try {
      config.validate();
    } catch (io.iidca.ca.config.ConfigException e) {
      throw new UsageException(NamePolicyOptions.flagMessage(e)
          .replace(" for dnsNames", " for --dns")
          .replace(" for crlUrl", " for --crl-url").replace(" for ocspUrl", " for --ocsp-url"));
    }
    X509Certificate root;
    try {
      root = CaInitializer.create(files, config, password);
    } catch (FileAlreadyExistsException e) {
      throw new UsageException(e.getReason() + " (" + e.getFile() + "). Set IIDCA_PATH to"
          + " another directory for a new CA");
    }

    String fingerprint = Fingerprints.of(root);
    String caUrl = "https://" + hostForUrl(dnsNames.get(0))
        + (listen.port() == 443 ? "" : ":" + listen.port());
    try {
      new ClientDefaults(caUrl, fingerprint, files.rootCertificate().toString()).save(files);
    } catch (IOException e) {
      throw new IOException("the CA was created, but its client defaults were not written ("
          + e.getMessage() + "); after fixing that, run iidca bootstrap --ca-url " + caUrl
          + " --fingerprint " + fingerprint + " to write them", e);
    }

    done("Root certificate: " + files.rootCertificate());
    done("Root private key: " + files.resolve(CaFiles.ROOT_KEY));
    done("Intermediate certificate: " + files.resolve(CaFiles.INTERMEDIATE_CERT));
    done("Intermediate private key: " + files.resolve(CaFiles.INTERMEDIATE_KEY));
    done("Configuration: " + files.caConfig());
    out.println("Root fingerprint: " + fingerprint);
    return 0;
  }

  private static String required(CommandLine line, String option) throws UsageException {
    String value = line.getOptionValue(option);
    if (value == null || value.isBlank()) {
      throw new UsageException("--" + option + " is required");
    }
    return value;
  }

  private static String hostForUrl(String name) {
    return name.contains(":") ? "[" + name + "]" : name;
  }
}
