package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The reload after a renewal: a shell command, a signal to a PID file's process, or both. */
class RenewerHookTest {

  @TempDir
  Path directory;

  List<String> progress = new ArrayList<>();
  List<String> output = new ArrayList<>();

  @Test
  void execRunsThroughShell() throws Exception {
    Path marker = directory.resolve("marker");
    String command = "echo renewed > '" + marker + "' && echo done";

    new RenewerHook(command, null, null).run(progress::add, output::add);

    assertThat(marker).hasContent("renewed");
    assertThat(progress).containsExactly("Ran: " + command);
    assertThat(output).containsExactly("done");
  }

  @Test
  void execFailureNamesStatus() {
    RenewerHook hook = new RenewerHook("echo broken >&2; exit 3", null, null);

    assertThatThrownBy(() -> hook.run(progress::add, output::add))
        .isInstanceOf(RenewerHook.HookException.class)
        .hasMessage("--exec 'echo broken >&2; exit 3' exited with status 3");
    assertThat(output).containsExactly("broken");
    assertThat(progress).isEmpty();
  }

  @Test
  void longOutputIsCut() throws Exception {
    new RenewerHook("seq 1 60", null, null).run(progress::add, output::add);

    assertThat(output).hasSize(RenewerHook.MAX_OUTPUT_LINES + 1);
    assertThat(output.get(0)).isEqualTo("1");
    assertThat(output.get(RenewerHook.MAX_OUTPUT_LINES)).isEqualTo("(10 more lines not shown)");
  }

  @Test
  void signalReachesProcessFromPidFile() throws Exception {
    Path marker = directory.resolve("got-usr1");
    Process child = new ProcessBuilder("/bin/sh", "-c", "trap 'echo usr1 > \"$0\"; exit 0'"
        + " USR1; echo ready; while :; do sleep 0.1; done", marker.toString())
        .redirectErrorStream(true).start();
    try {
      // Wait until the trap is set: the shell prints ready after the trap command.
      assertThat(new String(child.getInputStream().readNBytes(6))).isEqualTo("ready\n");
      Path pidFile = Files.writeString(directory.resolve("service.pid"), child.pid() + "\n");

      new RenewerHook(null, pidFile, "SIGusr1").run(progress::add, output::add);

      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(child.exitValue()).isZero();
      assertThat(marker).hasContent("usr1");
      assertThat(progress).containsExactly("Sent SIGUSR1 to process " + child.pid() + " ("
          + pidFile + ")");
    } finally {
      child.destroyForcibly();
    }
  }

  @ParameterizedTest(name = "pid file ''{0}''")
  @CsvSource(delimiter = '|', value = {
      "'' | contains '', expected a positive process id",
      "abc | contains 'abc', expected a positive process id",
      "0 | contains '0', expected a positive process id",
      "-1 | contains '-1', expected a positive process id",
      "2147483647 | no process 2147483647 is running",
  })
  void badPidFileIsReported(String content, String message) throws Exception {
    Path pidFile = Files.writeString(directory.resolve("service.pid"), content);
    RenewerHook hook = new RenewerHook(null, pidFile, null);

    assertThatThrownBy(() -> hook.run(progress::add, output::add))
        .isInstanceOf(RenewerHook.HookException.class)
        .hasMessageContaining(message);
  }

  @Test
  void missingPidFileIsReported() {
    Path pidFile = directory.resolve("absent.pid");
    RenewerHook hook = new RenewerHook(null, pidFile, "HUP");

    assertThatThrownBy(() -> hook.run(progress::add, output::add))
        .isInstanceOf(RenewerHook.HookException.class)
        .hasMessage("--pid-file " + pidFile + " not found: is the service up?");
  }

  @ParameterizedTest(name = "--signal {0} is {1}")
  @CsvSource({"HUP, HUP", "hup, HUP", "SIGHUP, HUP", "usr1, USR1", "SIGTERM, TERM",
      "' winch ', WINCH"})
  void signalNamesAreNormalized(String typed, String name) {
    assertThat(RenewerHook.signalName(typed)).isEqualTo(name);
  }

  @ParameterizedTest(name = "--signal {0} is rejected")
  @CsvSource({"KILL", "STOP", "1", "SIG", "HUP;reboot"})
  void unsupportedSignalsAreRejected(String typed) {
    assertThatThrownBy(() -> new RenewerHook(null, directory.resolve("x.pid"), typed))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("--signal " + typed + " is not supported");
  }

  @Test
  void emptyHookDoesNothing() throws Exception {
    RenewerHook hook = RenewerHook.none();

    hook.run(progress::add, output::add);

    assertThat(hook.isEmpty()).isTrue();
    assertThat(progress).isEmpty();
  }
}
