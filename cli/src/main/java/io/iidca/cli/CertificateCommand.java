package io.iidca.cli;

import io.iidca.ca.pki.CaFiles;
import io.iidca.ca.pki.Fingerprints;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Pem;
import io.iidca.routes.client.ClientDefaults;
import io.iidca.routes.client.CloudHint;
import io.iidca.routes.client.Enroller;
import io.iidca.routes.client.EnrollmentFiles;
import io.iidca.routes.client.EnrollmentRequest;
import io.iidca.routes.client.EnrollmentResult;
import java.net.URI;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code iidca certificate SUBJECT CRT KEY --provisioner NAME}: enrolls this instance with its
 * identity document and writes the key and the certificate chain.
 */
final class CertificateCommand extends Command {

  CertificateCommand(Environment environment) {
    super(environment);
  }

  @Override
  String name() {
    return "certificate";
  }

  @Override
  String arguments() {
    return "SUBJECT CRT_FILE KEY_FILE";
  }

  @Override
  String summary() {
    return "Get a certificate for this instance from the bootstrapped CA, proving the"
        + " instance's identity with its cloud's signed metadata.";
  }

  @Override
  Options options() {
    return new Options()
        .addOption(Option.builder().longOpt("provisioner").hasArg().argName("NAME")
            .desc("the CA's provisioner for this cloud").get())
        .addOption(Option.builder().longOpt("san").hasArg().argName("NAME")
            .desc("an extra DNS name or IP address; repeat for several").get())
        .addOption(Option.builder().longOpt("kty").hasArg().argName("TYPE")
            .desc("key type: EC (default), RSA or OKP").get())
        .addOption(Option.builder().longOpt("curve").hasArg().argName("CURVE")
            .desc("EC curve P-256 (default), P-384, P-521; Ed25519 for OKP").get())
        .addOption(Option.builder().longOpt("size").hasArg().argName("BITS")
            .desc("RSA key size in bits (default 2048)").get())
        .addOption(Option.builder().longOpt("ca-url").hasArg().argName("URL")
            .desc("the CA's URL, instead of the bootstrapped one").get())
        .addOption(Option.builder().longOpt("root").hasArg().argName("FILE")
            .desc("the root certificate to trust, instead of the bootstrapped one").get())
        .addOption(Option.builder().longOpt("force")
            .desc("replace CRT_FILE and KEY_FILE if they exist").get())
        .addOption(Option.builder().longOpt("help").desc("show this help").get());
  }

  @Override
  int run(CommandLine line) throws Exception {
    List<String> args = positional(line, 3, "SUBJECT CRT_FILE KEY_FILE");
    Path certificateFile = Path.of(args.get(1));
    Path keyFile = Path.of(args.get(2));
    if (EnrollmentFiles.sameFile(certificateFile, keyFile)) {
      throw new UsageException("CRT_FILE " + certificateFile + " and KEY_FILE " + keyFile
          + " are the same file, " + EnrollmentFiles.realPath(certificateFile)
          + ": pass a different path for each");
    }
    String provisioner = line.getOptionValue("provisioner");
    if (provisioner == null) {
      throw new UsageException("--provisioner is required: iidca provisioner list on the CA"
          + " host shows the names");
    }
    KeySpec keySpec;
    try {
      keySpec = KeySpec.of(line.getOptionValue("kty"), line.getOptionValue("curve"),
          line.hasOption("size") ? Integer.valueOf(line.getOptionValue("size")) : null);
    } catch (NumberFormatException e) {
      throw new UsageException("--size " + line.getOptionValue("size") + " is not a number");
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    CaFiles files = environment.files();
    ClientDefaults defaults = line.hasOption("ca-url") && line.hasOption("root") ? null
        : ClientDefaults.load(files);
    URI caUrl = caUrl(line, defaults, files);
    X509Certificate root = Pem.readCertificate(Path.of(line.hasOption("root")
        ? line.getOptionValue("root") : defaults.root()));
    if (defaults != null && !line.hasOption("root")
        && !Fingerprints.of(root).equals(defaults.fingerprint())) {
      throw new UsageException(defaults.root() + " does not match the bootstrapped fingerprint "
          + defaults.fingerprint() + ": run iidca bootstrap again");
    }
    List<String> sans = line.hasOption("san") ? List.of(line.getOptionValues("san")) : List.of();

    EnrollmentResult result = Enroller.enroll(new EnrollmentRequest(caUrl, root, null,
        provisioner, args.get(0), sans, keySpec, certificateFile, keyFile,
        line.hasOption("force"), this::done, null, environment::variable,
        CloudHint.detect(environment::variable, environment.sys())));
    err.println("  serial " + result.certificate().getSerialNumber().toString(16)
        + ", valid until " + result.certificate().getNotAfter().toInstant());
    return 0;
  }
}
