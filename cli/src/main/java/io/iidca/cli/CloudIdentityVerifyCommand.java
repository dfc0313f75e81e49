package io.iidca.cli;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/**
 * {@code iidca identity verify gcp} and {@code iidca identity verify azure}: verify a saved
 * token or attested document offline and print what was verified; the checks live in
 * {@link GcpIdentityCheck} and {@link AzureIdentityCheck}.
 */
final class CloudIdentityVerifyCommand extends Command {

  private final String cloud;

  private CloudIdentityVerifyCommand(Environment environment, String cloud) {
    super(environment);
    this.cloud = cloud;
  }

  static CloudIdentityVerifyCommand gcp(Environment environment) {
    return new CloudIdentityVerifyCommand(environment, "gcp");
  }

  static CloudIdentityVerifyCommand azure(Environment environment) {
    return new CloudIdentityVerifyCommand(environment, "azure");
  }

  @Override
  String name() {
    return "identity verify " + cloud;
  }

  @Override
  String arguments() {
    return "";
  }

  @Override
  String summary() {
    return cloud.equals("gcp")
        ? "Verify a saved GCP identity token against Google's keys and print the identity;"
            + " exits 1 when it does not verify."
        : "Verify a saved Azure managed-identity token or attested document and print the"
            + " identity; exits 1 when it does not verify.";
  }

  @Override
  Options options() {
    return cloud.equals("gcp") ? GcpIdentityCheck.options() : AzureIdentityCheck.options();
  }

  @Override
  int run(CommandLine line) throws Exception {
    positional(line, 0, "no arguments");
    // Exit codes as for aws: 0 verified, 1 not verified, 2 usage (the check prints why).
    return cloud.equals("gcp") ? GcpIdentityCheck.run(line, out, err)
        : AzureIdentityCheck.run(line, out, err);
  }
}
