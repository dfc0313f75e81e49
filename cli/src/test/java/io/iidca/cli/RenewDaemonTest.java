package io.iidca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.iidca.ca.io.AtomicFiles;
import io.iidca.ca.pki.KeyFiles;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Pem;
import io.iidca.routes.client.Renewer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code iidca renew --daemon} keeping a 30-second certificate fresh against a real CA. The CA
 * backdates notBefore by one minute, so the enrolled certificate is due at once. Each renewed
 * one is due about 20 s after it arrived. The test watches the certificate file for at most
 * {@link #MAX_WAIT_SECONDS} and stops the daemon after three renewals.
 */
class RenewDaemonTest {

  static final int RENEWALS = 3;
  static final long MAX_WAIT_SECONDS = 90;

  @TempDir
  Path directory;

  @Test
  void daemonRenewsShortLivedCertificateRepeatedly() throws Exception {
    try (RenewCommandTest.TestCaServer ca = RenewCommandTest.TestCaServer.start(
        directory.resolve("ca"))) {
      Path crt = directory.resolve("app.crt");
      Path key = directory.resolve("app.key");
      X509Certificate enrolled = ca.enroll(crt, key, "30s", KeySpec.EC_P256);
      byte[] keyBefore = Files.readAllBytes(key);
      CliRunner cli = ca.bootstrappedClient(directory.resolve("client"));
      Path marker = directory.resolve("reloads");
      CountDownLatch stop = new CountDownLatch(1);

      CompletableFuture<CliRunner.Result> daemon = CompletableFuture.supplyAsync(() ->
          cli.run(stop, "renew", "--daemon", crt.toString(), key.toString(), "--exec",
              "echo reload >> '" + marker + "'"));
      List<BigInteger> serials;
      try {
        serials = awaitSerials(crt, enrolled.getSerialNumber(), daemon);
      } finally {
        stop.countDown();
      }
      CliRunner.Result result = daemon.get(MAX_WAIT_SECONDS, TimeUnit.SECONDS);

      assertThat(result.status()).as(result.err()).isZero();
      assertThat(serials).hasSize(RENEWALS + 1).doesNotHaveDuplicates();
      List<X509Certificate> chain = Pem.readCertificates(crt);
      assertThat(chain).hasSize(2);
      assertThat(serials).contains(chain.get(0).getSerialNumber());
      assertThat(chain.get(0).getPublicKey()).isEqualTo(enrolled.getPublicKey());
      assertThat(Renewer.matches(KeyFiles.read(key, null), chain.get(0).getPublicKey()))
          .isTrue();
      assertThat(Files.readAllBytes(key)).isEqualTo(keyBefore);
      assertThat(Files.getPosixFilePermissions(crt)).isEqualTo(AtomicFiles.PUBLIC);
      assertThat(Files.getPosixFilePermissions(key)).isEqualTo(AtomicFiles.PRIVATE);
      assertThat(Files.readAllLines(marker)).hasSizeGreaterThanOrEqualTo(RENEWALS)
          .containsOnly("reload");
      assertThat(result.err()).contains("\u2714 Renewing " + crt + " in the background");
      try (Stream<Path> files = Files.list(directory)) {
        assertThat(files.map(file -> file.getFileName().toString()))
            .noneMatch(name -> name.endsWith(".tmp") || name.endsWith(".new"));
      }
    }
  }

  /**
   * Reads the certificate file every 100 ms and returns the serials seen, the enrolled one
   * first, once {@link #RENEWALS} new ones appeared or {@link #MAX_WAIT_SECONDS} passed.
   */
  private static List<BigInteger> awaitSerials(Path crt, BigInteger enrolled,
      CompletableFuture<CliRunner.Result> daemon) throws Exception {
    List<BigInteger> serials = new ArrayList<>(List.of(enrolled));
    long polls = MAX_WAIT_SECONDS * 10;
    for (long i = 0; i < polls && serials.size() <= RENEWALS; i++) {
      if (daemon.isDone()) {
        throw new AssertionError("the daemon exited: " + daemon.get().err());
      }
      // The file is replaced by a rename, so every read sees a whole chain.
      BigInteger serial = Pem.readCertificate(crt).getSerialNumber();
      if (!serial.equals(serials.get(serials.size() - 1))) {
        serials.add(serial);
      }
      Thread.sleep(100);
    }
    return serials;
  }
}
