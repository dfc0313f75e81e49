package io.iidca.cli;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/** {@code iidca version}. */
final class VersionCommand extends Command {

  VersionCommand(Environment environment) {
    super(environment);
  }

  @Override
  String name() {
    return "version";
  }

  @Override
  String arguments() {
    return "";
  }

  @Override
  String summary() {
    return "Print the version.";
  }

  @Override
  Options options() {
    return new Options()
        .addOption(Option.builder().longOpt("help").desc("show this help").get());
  }

  @Override
  int run(CommandLine line) {
    String version = Main.class.getPackage().getImplementationVersion();
    out.println("iidca " + (version == null ? "development build" : version));
    return 0;
  }
}
