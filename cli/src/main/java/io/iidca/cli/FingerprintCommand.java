package io.iidca.cli;

import io.iidca.ca.pki.Fingerprints;
import java.nio.file.Path;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/** {@code iidca fingerprint FILE}: the SHA-256 of the certificate's DER, in hex. */
final class FingerprintCommand extends Command {

  FingerprintCommand(Environment environment) {
    super(environment);
  }

  @Override
  String name() {
    return "fingerprint";
  }

  @Override
  String arguments() {
    return "FILE";
  }

  @Override
  String summary() {
    return "Print the SHA-256 fingerprint of a certificate, as bootstrap --fingerprint takes it.";
  }

  @Override
  Options options() {
    return new Options().addOption(Option.builder().longOpt("help").desc("show this help")
        .get());
  }

  @Override
  int run(CommandLine line) throws Exception {
    Path file = Path.of(positional(line, 1, "the certificate FILE").get(0));
    out.println(Fingerprints.of(InspectCommand.read(file)));
    return 0;
  }
}
