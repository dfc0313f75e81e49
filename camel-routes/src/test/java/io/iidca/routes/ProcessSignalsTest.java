package io.iidca.routes;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Signal handling through sun.misc.Signal. The test JVM receives SIGWINCH, whose default action
 * is to do nothing, so that a handler left installed cannot disturb the test run.
 */
class ProcessSignalsTest {

  @Test
  void handlerRunsOnSignal() throws Exception {
    CountDownLatch received = new CountDownLatch(1);

    boolean installed = ProcessSignals.handle("WINCH", received::countDown);
    Process kill = new ProcessBuilder("/bin/sh", "-c", "kill -s WINCH \"$0\"",
        Long.toString(ProcessHandle.current().pid())).start();

    assertThat(installed).isTrue();
    assertThat(kill.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).isZero();
    assertThat(received.await(30, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void unknownSignalIsNotInstalled() {
    assertThat(ProcessSignals.handle("NOSUCHSIGNAL", () -> { })).isFalse();
  }
}
