package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Pem;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The renewal daemon against a real CA: renewal on request (as on SIGHUP), stopping while it
 * waits or while a request hangs, retries after failures, and the guard against renewing
 * without pause. Waits are bounded; nothing depends on how fast the machine is.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RenewerDaemonTest {

  static final long WAIT_SECONDS = 60;
  /** The bound on a stop during a request: a third of the CA client's request timeout. */
  static final long ABANDON_SECONDS = 10;

  @TempDir
  static Path caDirectory;
  @TempDir
  static Path parent;

  RenewalCa ca;
  Path crt;
  Path key;
  Recorder events;

  @BeforeAll
  void startCa() throws Exception {
    ca = RenewalCa.start(caDirectory);
  }

  @AfterAll
  void stopCa() {
    ca.close();
  }

  @BeforeEach
  void files() throws Exception {
    Path directory = Files.createTempDirectory(parent, "daemon");
    crt = directory.resolve("app.crt");
    key = directory.resolve("app.key");
    events = new Recorder();
  }

  /** Records the daemon's events for the test thread. */
  static final class Recorder implements RenewerDaemon.Listener {
    record Renewed(X509Certificate previous, X509Certificate renewed, Instant next) {}

    record Failed(int failures, Exception error, Instant retryAt) {}

    final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();

    @Override
    public void renewed(X509Certificate previous, X509Certificate renewed, Instant next) {
      queue.add(new Renewed(previous, renewed, next));
    }

    @Override
    public void failed(int failures, Exception error, Instant retryAt) {
      queue.add(new Failed(failures, error, retryAt));
    }

    Object next() throws InterruptedException {
      Object event = queue.poll(WAIT_SECONDS, TimeUnit.SECONDS);
      assertThat(event).as("an event within " + WAIT_SECONDS + " s").isNotNull();
      return event;
    }
  }

  RenewerDaemon daemon(URI caUrl, RenewalSchedule schedule, RenewerHook hook) {
    Renewer renewer = new Renewer(caUrl, ca.root(), crt, key, false, Clock.systemUTC(),
        line -> { });
    return new RenewerDaemon(renewer, schedule, hook, Clock.systemUTC(),
        new SplittableRandom(7), events);
  }

  static CompletableFuture<Void> start(RenewerDaemon daemon) {
    return CompletableFuture.runAsync(daemon::run);
  }

  @Test
  void renewNowRenewsFreshCertificate() throws Exception {
    X509Certificate enrolled = ca.enroll(crt, key, "24h", KeySpec.EC_P256);
    Path marker = crt.resolveSibling("reloaded");
    RenewerDaemon daemon = daemon(ca.url(), RenewalSchedule.twoThirds(),
        new RenewerHook("echo reloaded >> '" + marker + "'", null, null));
    CompletableFuture<Void> running = start(daemon);

    daemon.renewNow();
    Recorder.Renewed renewed = (Recorder.Renewed) events.next();

    X509Certificate onDisk = Pem.readCertificate(crt);
    assertThat(renewed.previous().getSerialNumber()).isEqualTo(enrolled.getSerialNumber());
    assertThat(renewed.renewed().getSerialNumber()).isEqualTo(onDisk.getSerialNumber());
    assertThat(onDisk.getSerialNumber()).isNotEqualTo(enrolled.getSerialNumber());
    Instant notAfter = onDisk.getNotAfter().toInstant();
    // Two thirds into the 24 h from the renewal, less a jitter of up to 72 min. The minute of
    // slack covers the time between the CA's clock reading and the daemon's.
    Instant twoThirds = notAfter.minus(Duration.ofHours(8));
    assertThat(renewed.next()).isBefore(twoThirds.plus(Duration.ofMinutes(1)));
    assertThat(renewed.next()).isAfter(twoThirds.minus(Duration.ofMinutes(73)));
    awaitFile(marker);
    daemon.stop();
    running.get(WAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(marker).hasContent("reloaded");
    assertThat(events.queue).isEmpty();
  }

  @Test
  void stopWhileWaitingChangesNothing() throws Exception {
    ca.enroll(crt, key, "24h", KeySpec.EC_P256);
    byte[] before = Files.readAllBytes(crt);
    RenewerDaemon daemon = daemon(ca.url(), RenewalSchedule.twoThirds(), RenewerHook.none());
    CompletableFuture<Void> running = start(daemon);

    daemon.stop();
    running.get(WAIT_SECONDS, TimeUnit.SECONDS);

    assertThat(Files.readAllBytes(crt)).isEqualTo(before);
    assertThat(events.queue).isEmpty();
  }

  @Test
  void failuresAreRetriedWithBackoff() throws Exception {
    X509Certificate enrolled = ca.enroll(crt, key, "24h", KeySpec.EC_P256);
    byte[] before = Files.readAllBytes(crt);
    URI closed = URI.create("https://127.0.0.1:" + closedPort());
    RenewerDaemon daemon = daemon(closed, RenewalSchedule.twoThirds(), RenewerHook.none());
    CompletableFuture<Void> running = start(daemon);

    daemon.renewNow();
    Recorder.Failed first = (Recorder.Failed) events.next();
    Recorder.Failed second = (Recorder.Failed) events.next();
    daemon.stop();
    running.get(WAIT_SECONDS, TimeUnit.SECONDS);

    assertThat(first.failures()).isEqualTo(1);
    assertThat(first.error()).hasMessageContaining("cannot connect to the CA at " + closed);
    assertThat(second.failures()).isEqualTo(2);
    assertThat(second.retryAt()).isBefore(enrolled.getNotAfter().toInstant());
    assertThat(Files.readAllBytes(crt)).isEqualTo(before);
  }

  @Test
  void stopAbandonsHangingRequest() throws Exception {
    ca.enroll(crt, key, "24h", KeySpec.EC_P256);
    byte[] before = Files.readAllBytes(crt);
    try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CountDownLatch connected = new CountDownLatch(1);
      CompletableFuture<Socket> accepted = CompletableFuture.supplyAsync(() -> {
        try {
          Socket socket = silent.accept();
          connected.countDown();
          return socket;
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      RenewerDaemon daemon = daemon(URI.create("https://127.0.0.1:" + silent.getLocalPort()),
          RenewalSchedule.twoThirds(), RenewerHook.none());
      CompletableFuture<Void> running = start(daemon);

      daemon.renewNow();
      assertThat(connected.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
      daemon.stop();
      // The request's own timeout is 30 s, so a request that ran into it instead of being
      // abandoned at the stop fails here.
      running.get(ABANDON_SECONDS, TimeUnit.SECONDS);

      assertThat(events.queue).isEmpty();
      assertThat(Files.readAllBytes(crt)).isEqualTo(before);
      accepted.get().close();
    }
  }

  @Test
  void renewedCertificateAlreadyDueStopsDaemon() throws Exception {
    ca.enroll(crt, key, "24h", KeySpec.EC_P256);
    RenewerDaemon daemon = daemon(ca.url(), RenewalSchedule.expiresWithin(Duration.ofHours(25)),
        RenewerHook.none());

    CompletableFuture<Void> running = start(daemon);

    assertThatThrownBy(() -> running.get(WAIT_SECONDS, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already due, as it is renewed when it expires within 25h")
        .hasMessageContaining("pass a shorter --expires-in");
    assertThat(events.next()).isInstanceOf(Recorder.Renewed.class);
  }

  static int closedPort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  static void awaitFile(Path file) throws InterruptedException {
    for (int i = 0; i < WAIT_SECONDS * 10 && !Files.exists(file); i++) {
      Thread.sleep(100);
    }
    assertThat(file).exists();
  }
}
