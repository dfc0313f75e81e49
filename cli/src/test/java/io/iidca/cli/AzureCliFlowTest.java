package io.iidca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iidca.ca.pki.Pem;
import io.iidca.routes.client.AzureMetadataClient;
import io.iidca.testkit.azure.AzureInstance;
import io.iidca.testkit.azure.AzureMetadataEmulator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Azure flow as typed, in one JVM: init, {@code provisioner add --type Azure} with the
 * emulator's OpenID configuration and roots, serve over real HTTPS, bootstrap, certificate
 * against the Azure IMDS emulator (named by {@code AZURE_POD_IDENTITY_AUTHORITY_HOST}, so the
 * client never reaches the real IMDS address), inspect, and {@code identity verify azure} on a
 * token and a document that the emulator issued.
 */
class AzureCliFlowTest {

  static final String TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  static final String SUBSCRIPTION = "0a1b2c3d-0000-4000-8000-00000000000a";
  static final String PROVISIONER = "Azure Provisioner";
  static final String RESOURCE = "https://management.azure.com/";

  @TempDir
  Path directory;

  @Test
  void typedFlowIssuesCertificateOnce() throws Exception {
    Path pw = Files.writeString(directory.resolve("pw"), "correct horse\n");
    Path rootsPem = directory.resolve("emulator-roots.pem");
    int port = CliFlowTest.freePort();
    CliRunner cli = new CliRunner(directory.resolve("ca").toString());
    AzureInstance vm = AzureInstance.random(TENANT, SUBSCRIPTION);
    try (AzureMetadataEmulator emulator = AzureMetadataEmulator.builder().instance(vm)
        .start()) {
      Files.writeString(rootsPem, emulator.signer().rootsPem());
      cli.variable("AZURE_POD_IDENTITY_AUTHORITY_HOST", emulator.endpoint().toString());

      CliRunner.Result init = cli.run("init", "--name", "My CA", "--dns", "ca.local", "--dns",
          "127.0.0.1", "--address", "127.0.0.1:" + port, "--password-file", pw.toString());
      assertThat(init.status()).as(init.err()).isZero();
      String fingerprint = init.out().replaceAll("(?s).*Root fingerprint: ([0-9a-f]{64}).*",
          "$1");
      assertThat(fingerprint).hasSize(64);

      CliRunner.Result add = cli.run("provisioner", "add", PROVISIONER, "--type", "Azure",
          "--azure-tenant", TENANT, "--azure-openid-config-url",
          emulator.openIdConfigUrl().toString(), "--azure-roots", rootsPem.toString(),
          "--azure-require-attestation");
      assertThat(add.status()).as(add.err()).isZero();
      try (var copied = Files.list(directory.resolve("ca/config/azure-roots"))) {
        assertThat(copied.count()).as("copied roots files").isEqualTo(1);
      }

      CountDownLatch stop = new CountDownLatch(1);
      CompletableFuture<CliRunner.Result> serve = CompletableFuture.supplyAsync(
          () -> cli.run(stop, "serve", "--password-file", pw.toString()));
      try {
        enrollAndInspect(cli, port, fingerprint, serve, vm);
      } finally {
        stop.countDown();
        assertThat(serve.get(30, TimeUnit.SECONDS).status()).isZero();
      }
      verifySavedDocuments(cli, emulator, rootsPem);
    }
  }

  private void enrollAndInspect(CliRunner cli, int port, String fingerprint,
      CompletableFuture<CliRunner.Result> serve, AzureInstance vm) throws Exception {
    CliRunner.Result bootstrap = awaitBootstrap(cli, port, fingerprint, serve);
    assertThat(bootstrap.status()).as(bootstrap.err()).isZero();

    Path crt = directory.resolve("vm.crt");
    Path key = directory.resolve("vm.key");
    CliRunner.Result certificate = cli.run("certificate", "vm.local", crt.toString(),
        key.toString(), "--provisioner", PROVISIONER);
    assertThat(certificate.status()).as(certificate.err()).isZero();
    assertThat(certificate.err()).contains("\u2714 Certificate: " + crt);
    assertThat(Files.getPosixFilePermissions(key))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(Files.getPosixFilePermissions(crt))
        .isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
    List<X509Certificate> chain = Pem.readCertificates(crt);
    assertThat(chain).hasSize(2);
    X509Certificate leaf = chain.get(0);
    assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=vm.local");
    List<String> sans = leaf.getSubjectAlternativeNames().stream()
        .map(name -> String.valueOf(name.get(1)))
        .toList();
    assertThat(sans).contains("vm.local", vm.vmName());
    try (var siblings = Files.list(directory)) {
      assertThat(siblings.map(p -> p.getFileName().toString()))
          .noneMatch(name -> name.endsWith(".tmp") || name.endsWith(".new"));
    }

    CliRunner.Result inspect = cli.run("inspect", "--short", crt.toString());
    assertThat(inspect.status()).as(inspect.err()).isZero();
    assertThat(inspect.out()).contains("X.509v3 TLS Certificate (ECDSA P-256)",
        "Subject:     vm.local", vm.vmName(), "Issuer:      My CA Intermediate CA",
        "Provisioner: " + PROVISIONER + " [Azure, instance vm:" + vm.vmId() + ", account "
            + SUBSCRIPTION + "]");

    Path again = directory.resolve("again.crt");
    Path againKey = directory.resolve("again.key");
    CliRunner.Result second = cli.run("certificate", "vm.local", again.toString(),
        againKey.toString(), "--provisioner", PROVISIONER);
    assertThat(second.status()).as(second.err()).isEqualTo(3);
    assertThat(second.err()).contains("already enrolled", "vm:" + vm.vmId());
    assertThat(again).doesNotExist();
    assertThat(againKey).doesNotExist();
  }

  private void verifySavedDocuments(CliRunner cli, AzureMetadataEmulator emulator,
      Path rootsPem) throws Exception {
    AzureMetadataClient imds = new AzureMetadataClient(emulator.endpoint(),
        Duration.ofSeconds(5));
    Path token = Files.writeString(directory.resolve("token.jwt"), imds.token(RESOURCE));
    Path keys = Files.writeString(directory.resolve("keys.json"), emulator.signer().jwks());
    Path document = Files.writeString(directory.resolve("signature.b64"),
        imds.attestedDocument("1234567890"));
    ObjectMapper json = new ObjectMapper();

    CliRunner.Result tokenCheck = cli.run("identity", "verify", "azure", "--token",
        token.toString(), "--keys", keys.toString(), "--tenant", TENANT, "--audience",
        RESOURCE);
    assertThat(tokenCheck.status()).as(tokenCheck.err()).isZero();
    JsonNode verifiedToken = json.readTree(tokenCheck.out());
    assertThat(verifiedToken.path("verified").asBoolean()).isTrue();
    assertThat(verifiedToken.path("tenantId").asText()).isEqualTo(TENANT);
    assertThat(verifiedToken.path("tenantChecked").asBoolean()).isTrue();
    assertThat(verifiedToken.path("audienceChecked").asBoolean()).isTrue();
    assertThat(verifiedToken.path("resourceId").asText())
        .isEqualTo(emulator.instance().resourceId());
    assertThat(verifiedToken.path("vmName").asText()).isEqualTo(emulator.instance().vmName());

    CliRunner.Result documentCheck = cli.run("identity", "verify", "azure", "--attested",
        document.toString(), "--roots", rootsPem.toString(), "--at", "createdOn");
    assertThat(documentCheck.status()).as(documentCheck.err()).isZero();
    JsonNode verifiedDocument = json.readTree(documentCheck.out());
    assertThat(verifiedDocument.path("verified").asBoolean()).isTrue();
    assertThat(verifiedDocument.path("nonce").asText()).isEqualTo("1234567890");
    assertThat(verifiedDocument.path("vmId").asText()).isEqualTo(emulator.instance().vmId());
    assertThat(verifiedDocument.path("subscriptionId").asText()).isEqualTo(SUBSCRIPTION);
    assertThat(verifiedDocument.path("signer").asText()).isEqualTo("CN=metadata.azure.com");

    CliRunner.Result untrusted = cli.run("identity", "verify", "azure", "--attested",
        document.toString(), "--at", "createdOn");
    assertThat(untrusted.status()).as("without the emulator's roots").isEqualTo(1);
  }

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
