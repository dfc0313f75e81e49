package io.iidca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.provisioner.Audience;
import io.iidca.routes.client.GcpMetadataClient;
import io.iidca.testkit.gcp.GcpInstance;
import io.iidca.testkit.gcp.GcpMetadataEmulator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GCP flow as typed, in one JVM: init, {@code provisioner add --type GCP} with the Compute
 * Engine metadata emulator's key set, serve over real HTTPS, bootstrap, certificate with
 * {@code GCE_METADATA_HOST} naming the emulator, inspect, and {@code identity verify gcp} on a
 * token the emulator issued. The variable reaches iidca through {@link CliRunner}'s
 * environment, never through this process's.
 */
class GcpCliFlowTest {

  static final String PROJECT = "iidca-cli-project";
  static final String ZONE = "europe-west1-b";
  static final String PROVISIONER = "GCP Provisioner";

  @TempDir
  Path directory;

  @Test
  void typedFlowIssuesCertificateOnce() throws Exception {
    Path pw = Files.writeString(directory.resolve("pw"), "correct horse\n");
    int port = CliFlowTest.freePort();
    CliRunner cli = new CliRunner(directory.resolve("ca").toString());
    GcpInstance instance = GcpInstance.random(PROJECT, ZONE);
    String globalName = instance.instanceName() + ".c." + PROJECT + ".internal";
    String zonalName = instance.hostname();
    try (GcpMetadataEmulator emulator = GcpMetadataEmulator.builder().instance(instance)
        .start()) {
      cli.variable("GCE_METADATA_HOST", emulator.metadataHost());

      CliRunner.Result init = cli.run("init", "--name", "My CA", "--dns", "ca.local", "--dns",
          "127.0.0.1", "--address", "127.0.0.1:" + port, "--password-file", pw.toString());
      assertThat(init.status()).as(init.err()).isZero();
      String fingerprint = init.out().replaceAll("(?s).*Root fingerprint: ([0-9a-f]{64}).*",
          "$1");
      assertThat(fingerprint).hasSize(64);

      CliRunner.Result add = cli.run("provisioner", "add", PROVISIONER, "--type", "GCP",
          "--gcp-project", PROJECT, "--gcp-jwks-url", emulator.jwksUrl().toString());
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
        assertThat(certificate.err()).contains(
            "\u2714 Instance identity token: " + emulator.endpoint());
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
        X509Certificate leaf = Pem.readCertificate(crt);
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=foo.local");

        CliRunner.Result inspect = cli.run("inspect", "--short", crt.toString());
        assertThat(inspect.status()).as(inspect.err()).isZero();
        assertThat(inspect.out()).contains("X.509v3 TLS Certificate (ECDSA P-256)",
            "Subject:     foo.local", globalName, zonalName,
            "Issuer:      My CA Intermediate CA",
            "Provisioner: " + PROVISIONER + " [GCP, instance " + instance.instanceId()
                + ", account " + PROJECT + "]");

        CliRunner.Result again = cli.run("certificate", "foo.local",
            directory.resolve("again.crt").toString(), directory.resolve("again.key")
                .toString(), "--provisioner", PROVISIONER);
        assertThat(again.status()).as("a rejection by the CA").isEqualTo(3);
        assertThat(again.err()).contains("already enrolled", instance.instanceId());
        assertThat(directory.resolve("again.crt")).doesNotExist();
        assertThat(directory.resolve("again.key")).doesNotExist();

        verifyEmulatorToken(cli, emulator, port);
      } finally {
        stop.countDown();
        assertThat(serve.get(30, TimeUnit.SECONDS).status()).isZero();
      }
    }
  }

  /**
   * Runs {@code identity verify gcp} on a token the emulator issued, with the emulator's key
   * set saved to a file: once with the token's audience, once with another one.
   */
  private void verifyEmulatorToken(CliRunner cli, GcpMetadataEmulator emulator, int port)
      throws Exception {
    String audience = Audience.of("https://127.0.0.1:" + port, "gcp", PROVISIONER);
    String token = new GcpMetadataClient(emulator.endpoint(), Duration.ofSeconds(5))
        .fetchIdentityToken(audience);
    Path tokenFile = Files.writeString(directory.resolve("token.jwt"), token + "\n");
    Path jwksFile = Files.writeString(directory.resolve("google-jwks.json"),
        emulator.signer().publicKeys().toString());
    GcpInstance instance = emulator.instance();

    CliRunner.Result verified = cli.run("identity", "verify", "gcp", "--token",
        tokenFile.toString(), "--jwks", jwksFile.toString(), "--at", "iat", "--audience",
        audience);

    assertThat(verified.status()).as(verified.err()).isZero();
    JsonNode identity = new ObjectMapper().readTree(verified.out());
    assertThat(identity.path("verified").asBoolean()).isTrue();
    assertThat(identity.path("audienceChecked").asBoolean()).isTrue();
    assertThat(identity.path("audience").asText()).isEqualTo(audience);
    assertThat(identity.path("project").asText()).isEqualTo(PROJECT);
    assertThat(identity.path("zone").asText()).isEqualTo(ZONE);
    assertThat(identity.path("instanceId").asText()).isEqualTo(instance.instanceId());
    assertThat(identity.path("instanceName").asText()).isEqualTo(instance.instanceName());
    assertThat(identity.path("serviceAccount").asText())
        .isEqualTo(instance.serviceAccountEmail());
    assertThat(identity.path("names")).extracting(JsonNode::asText).containsExactly(
        instance.instanceName() + ".c." + PROJECT + ".internal", instance.hostname());

    CliRunner.Result otherAudience = cli.run("identity", "verify", "gcp", "--token",
        tokenFile.toString(), "--jwks", jwksFile.toString(), "--at", "iat", "--audience",
        Audience.of("https://ca.other.example", "gcp", PROVISIONER));

    assertThat(otherAudience.status()).isEqualTo(1);
    assertThat(otherAudience.err()).contains("not verified", "token aud " + audience);
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
}
