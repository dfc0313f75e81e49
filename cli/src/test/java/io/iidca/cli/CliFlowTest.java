package io.iidca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.iidca.ca.pki.Pem;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsMetadataEmulator;
import io.iidca.testkit.aws.AwsTestSigner;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's and the instance's flow as typed, in one JVM: init, provisioner add, serve over
 * real HTTPS, bootstrap, certificate against the AWS metadata emulator, inspect, fingerprint.
 */
class CliFlowTest {

  static final String ACCOUNT = "123456789042";
  static final String PROVISIONER = "AWS IID Provisioner";

  @TempDir
  Path directory;

  @Test
  void typedFlowIssuesCertificateOnce() throws Exception {
    Path pw = Files.writeString(directory.resolve("pw"), "correct horse\n");
    Path emulatorPem = directory.resolve("emulator.pem");
    int port = freePort();
    CliRunner cli = new CliRunner(directory.resolve("ca").toString());
    AwsTestSigner signer = AwsTestSigner.generate();
    AwsInstance instance = AwsInstance.random(ACCOUNT, "eu-west-1");
    try (AwsMetadataEmulator emulator = AwsMetadataEmulator.builder().signer(signer)
        .instance(instance).start()) {
      Files.writeString(emulatorPem, signer.certificatesPem());
      cli.variable("AWS_EC2_METADATA_SERVICE_ENDPOINT", emulator.endpoint().toString());

      CliRunner.Result init = cli.run("init", "--name", "My CA", "--dns", "ca.local", "--dns",
          "127.0.0.1", "--address", "127.0.0.1:" + port, "--password-file", pw.toString());
      assertThat(init.status()).as(init.err()).isZero();
      String fingerprint = init.out().replaceAll("(?s).*Root fingerprint: ([0-9a-f]{64}).*",
          "$1");
      assertThat(fingerprint).hasSize(64);

      CliRunner.Result add = cli.run("provisioner", "add", PROVISIONER, "--type", "AWS",
          "--aws-account", ACCOUNT, "--aws-certificates", emulatorPem.toString());
      assertThat(add.status()).as(add.err()).isZero();

      CountDownLatch stop = new CountDownLatch(1);
      CompletableFuture<CliRunner.Result> serve = CompletableFuture.supplyAsync(
          () -> cli.run(stop, "serve", "--password-file", pw.toString()));
      try {
        CliRunner.Result bootstrap = awaitBootstrap(cli, port, fingerprint, serve);
        assertThat(bootstrap.status()).as(bootstrap.err()).isZero();

        Path crt = directory.resolve("foo.crt");
        Path key = directory.resolve("foo.key");
        CliRunner.Result certificate = cli.run("certificate", "foo.local", crt.toString(),
            key.toString(), "--provisioner", PROVISIONER);
        assertThat(certificate.status()).as(certificate.err()).isZero();
        assertThat(certificate.err()).contains("\u2714 Certificate: " + crt);
        assertThat(Files.getPosixFilePermissions(key))
            .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.getPosixFilePermissions(crt))
            .isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(Pem.readCertificates(crt)).hasSize(2);
        try (var siblings = Files.list(directory)) {
          assertThat(siblings.map(p -> p.getFileName().toString()))
              .noneMatch(name -> name.endsWith(".tmp") || name.endsWith(".new"));
        }

        CliRunner.Result inspect = cli.run("inspect", "--short", crt.toString());
        assertThat(inspect.status()).isZero();
        assertThat(inspect.out()).contains("X.509v3 TLS Certificate (ECDSA P-256)",
            "Subject:     foo.local", instance.privateIp(), "Issuer:      My CA Intermediate CA",
            "Provisioner: " + PROVISIONER + " [AWS, instance " + instance.instanceId());

        CliRunner.Result fingerprintOut = cli.run("fingerprint",
            directory.resolve("ca/certs/root_ca.crt").toString());
        assertThat(fingerprintOut.out().strip()).isEqualTo(fingerprint);

        // The client asks the CA for the provisioner's type on a second thread while its route
        // starts. Each failure still reaches the user as its own message and writes nothing.
        String written = Files.readString(crt);
        CliRunner.Result exists = cli.run("certificate", "foo.local", crt.toString(),
            key.toString(), "--provisioner", PROVISIONER);
        assertThat(exists.status()).isEqualTo(1);
        assertThat(exists.err()).contains("iidca certificate: " + crt
            + ": file exists; pass --force to replace it");
        assertThat(Files.readString(crt)).isEqualTo(written);

        Path otherCrt = directory.resolve("other.crt");
        Path otherKey = directory.resolve("other.key");
        CliRunner.Result unknown = cli.run("certificate", "foo.local", otherCrt.toString(),
            otherKey.toString(), "--provisioner", "GCP IID Provisioner");
        assertThat(unknown.status()).as("a rejection by the CA").isEqualTo(3);
        assertThat(unknown.err()).contains("iidca certificate: the CA has no provisioner named"
            + " 'GCP IID Provisioner'; its provisioners are [" + PROVISIONER + "]");

        int closedPort = freePort();
        CliRunner.Result unreachable = cli.run("certificate", "foo.local", otherCrt.toString(),
            otherKey.toString(), "--provisioner", PROVISIONER, "--ca-url",
            "https://127.0.0.1:" + closedPort, "--root",
            directory.resolve("ca/certs/root_ca.crt").toString());
        assertThat(unreachable.status()).isEqualTo(1);
        assertThat(unreachable.err()).contains("iidca certificate: cannot connect to the CA at"
            + " https://127.0.0.1:" + closedPort + ": is iidca serve running there?");
        assertThat(otherCrt).doesNotExist();
        assertThat(otherKey).doesNotExist();

        CliRunner.Result again = cli.run("certificate", "foo.local",
            directory.resolve("again.crt").toString(), directory.resolve("again.key")
                .toString(), "--provisioner", PROVISIONER);
        assertThat(again.status()).as("a rejection by the CA").isEqualTo(3);
        assertThat(again.err()).contains("already enrolled", instance.instanceId());
        assertThat(directory.resolve("again.crt")).doesNotExist();
        assertThat(directory.resolve("again.key")).doesNotExist();

        X509Certificate leaf = Pem.readCertificate(crt);
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=foo.local");

        CliRunner.Result list = cli.run("instance", "list", "--password-file", pw.toString());
        assertThat(list.status()).as(list.err()).isZero();
        assertThat(list.out()).contains(instance.instanceId(), ACCOUNT,
            leaf.getSerialNumber().toString(16));

        CliRunner.Result reset = cli.run("instance", "reset", PROVISIONER,
            instance.instanceId(), "--password-file", pw.toString());
        assertThat(reset.status()).as(reset.err()).isZero();
        CliRunner.Result afterReset = cli.run("certificate", "foo.local",
            directory.resolve("again.crt").toString(), directory.resolve("again.key")
                .toString(), "--provisioner", PROVISIONER);
        assertThat(afterReset.status()).as(afterReset.err()).isZero();

        CliRunner.Result reenroll = cli.run("certificate", "foo.local", crt.toString(),
            key.toString(), "--provisioner", PROVISIONER, "--force");
        assertThat(reenroll.status()).as(reenroll.err()).isZero();
        assertThat(Pem.readCertificate(crt).getSerialNumber())
            .isNotEqualTo(leaf.getSerialNumber());

        // A current certificate with another key is not presented. The request then reaches
        // the CA, which rejects the registered instance, and no file is replaced.
        String crtBefore = Files.readString(crt);
        String otherKeyBefore = Files.readString(directory.resolve("again.key"));
        CliRunner.Result mismatched = cli.run("certificate", "foo.local", crt.toString(),
            directory.resolve("again.key").toString(), "--provisioner", PROVISIONER, "--force");
        assertThat(mismatched.status()).as("a rejection by the CA").isEqualTo(3);
        assertThat(mismatched.err()).contains("Not presenting " + crt + ": "
            + directory.resolve("again.key") + " is not its key", "already enrolled");
        assertThat(mismatched.err()).doesNotContain("TLS handshake");
        assertThat(crt).hasContent(crtBefore);
        assertThat(directory.resolve("again.key")).hasContent(otherKeyBefore);

        CliRunner.Result revoke = cli.run("revoke", leaf.getSerialNumber().toString(),
            "--reason-code", "keyCompromise", "--password-file", pw.toString());
        assertThat(revoke.status()).as(revoke.err()).isZero();
        CliRunner.Result revokeAgain = cli.run("revoke", leaf.getSerialNumber().toString(),
            "--password-file", pw.toString());
        assertThat(revokeAgain.status()).as("a rejection by the CA").isEqualTo(3);
        assertThat(revokeAgain.err()).contains("already revoked");

        CliRunner.Result holderRevoke = cli.run("revoke", "--cert",
            directory.resolve("again.crt").toString(), "--key",
            directory.resolve("again.key").toString());
        assertThat(holderRevoke.status()).as(holderRevoke.err()).isZero();

        CliRunner.Result wrongPassword = cli.run("instance", "list", "--password-file",
            Files.writeString(directory.resolve("wrong"), "nope\n").toString());
        assertThat(wrongPassword.status()).isEqualTo(2);
        assertThat(wrongPassword.err()).contains("password");
      } finally {
        stop.countDown();
        assertThat(serve.get(30, TimeUnit.SECONDS).status()).isZero();
      }
    }
  }

  /** Retries bootstrap while the server starts; fails at once if serve already exited. */
  private static CliRunner.Result awaitBootstrap(CliRunner cli, int port, String fingerprint,
      CompletableFuture<CliRunner.Result> serve) throws Exception {
    CliRunner.Result result = null;
    for (int attempt = 0; attempt < 100; attempt++) {
      if (serve.isDone()) {
        throw new AssertionError("serve exited: " + serve.get().err());
      }
      result = cli.run("bootstrap", "--ca-url", "https://127.0.0.1:" + port, "--fingerprint",
          fingerprint);
      if (result.status() == 0 || !result.err().contains("cannot connect")) {
        return result;
      }
      Thread.sleep(100);
    }
    return result;
  }

  static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0, 1,
        java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
