package io.iidca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks that every command that {@code iidca --help} lists accepts {@code --help}, because the
 * message of a usage error names that command line.
 */
class HelpTest {

  @TempDir
  Path home;

  @Test
  void helpPrintsUsageOfEveryCommand() {
    CliRunner cli = new CliRunner(home.toString());
    CliRunner.Result overview = cli.run("--help");
    assertThat(overview.status()).isZero();
    List<String> commands = overview.out().lines()
        .dropWhile(line -> !line.equals("Commands:"))
        .skip(1)
        .takeWhile(line -> line.startsWith("  "))
        .map(line -> line.substring(2, Math.min(line.length(), 24)).trim())
        .toList();
    assertThat(commands).contains("init", "serve", "certificate", "inspect", "version");

    for (String command : commands) {
      String[] args = (command + " --help").split(" ");
      CliRunner.Result result = cli.run(args);
      assertThat(result.status()).as("iidca %s --help, stderr: %s", command, result.err())
          .isZero();
      assertThat(result.out()).as("iidca %s --help", command)
          .startsWith("usage: iidca " + command + " [options]");
      assertThat(result.err()).as("iidca %s --help", command).isEmpty();
    }
  }

  @Test
  void usageErrorNamesWorkingHelp() {
    CliRunner cli = new CliRunner(home.toString());
    CliRunner.Result wrong = cli.run("version", "--verbose");
    assertThat(wrong.status()).isEqualTo(2);
    assertThat(wrong.err()).contains("iidca version: Unrecognized option: --verbose")
        .contains("Run iidca version --help for usage.");
    assertThat(cli.run("version", "--help").status()).isZero();
  }
}
