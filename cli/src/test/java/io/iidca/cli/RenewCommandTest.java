package io.iidca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.io.AtomicFiles;
import io.iidca.ca.pki.CaFiles;
import io.iidca.ca.pki.Fingerprints;
import io.iidca.ca.pki.KeyFiles;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Pem;
import io.iidca.routes.client.AwsTokenBuilder;
import io.iidca.routes.client.CaClient;
import io.iidca.routes.client.ClientDefaults;
import io.iidca.routes.client.CsrBuilder;
import io.iidca.routes.client.Renewer;
import io.iidca.routes.server.CaRuntime;
import io.iidca.routes.server.CaServer;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsTestSigner;
import io.iidca.testkit.pki.TestCa;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code iidca renew} as typed, in this JVM, against a real CA over HTTPS with mutual TLS. The
 * client's IIDCA_PATH contains the bootstrapped defaults, as {@code iidca bootstrap} writes them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RenewCommandTest {

  @TempDir
  static Path caDirectory;
  @TempDir
  static Path parent;

  TestCaServer ca;
  Path directory;
  Path crt;
  Path key;
  CliRunner cli;

  @BeforeAll
  void startCa() throws Exception {
    ca = TestCaServer.start(caDirectory);
  }

  @AfterAll
  void stopCa() {
    ca.close();
  }

  @BeforeEach
  void client() throws Exception {
    directory = Files.createTempDirectory(parent, "renew");
    crt = directory.resolve("app.crt");
    key = directory.resolve("app.key");
    cli = ca.bootstrappedClient(directory.resolve("client"));
  }

  @Test
  void freshCertificateIsNotRenewed() throws Exception {
    X509Certificate enrolled = ca.enroll(crt, key, "24h", KeySpec.EC_P256);
    byte[] before = Files.readAllBytes(crt);

    CliRunner.Result result = cli.run("renew", crt.toString(), key.toString());

    assertThat(result.status()).as(result.err()).isZero();
    assertThat(result.err()).contains("Certificate " + crt + " is still fresh: serial "
        + Renewer.serial(enrolled) + " is valid until " + enrolled.getNotAfter().toInstant()
        + " and is renewed at two thirds of its lifetime, from ", "Pass --force to renew now.");
    assertThat(result.err()).doesNotContain("\u2714");
    assertThat(Files.readAllBytes(crt)).isEqualTo(before);
  }

  @Test
  void forceRenewsAndKeepsKey() throws Exception {
    X509Certificate enrolled = ca.enroll(crt, key, "24h", KeySpec.EC_P256);
    byte[] keyBefore = Files.readAllBytes(key);

    CliRunner.Result result = cli.run("renew", crt.toString(), key.toString(), "--force");

    assertThat(result.status()).as(result.err()).isZero();
    List<X509Certificate> chain = Pem.readCertificates(crt);
    X509Certificate renewed = chain.get(0);
    assertThat(chain).hasSize(2);
    assertThat(renewed.getSerialNumber()).isNotEqualTo(enrolled.getSerialNumber());
    assertThat(renewed.getPublicKey()).isEqualTo(enrolled.getPublicKey());
    assertThat(Files.readAllBytes(key)).isEqualTo(keyBefore);
    assertThat(Files.getPosixFilePermissions(key)).isEqualTo(AtomicFiles.PRIVATE);
    assertThat(Files.getPosixFilePermissions(crt)).isEqualTo(AtomicFiles.PUBLIC);
    assertThat(result.err().lines().toList()).containsExactly(
        "\u2714 Renewed serial " + Renewer.serial(enrolled) + ": new serial "
            + Renewer.serial(renewed) + ", valid until " + renewed.getNotAfter().toInstant(),
        "\u2714 Certificate: " + crt);
  }

  @ParameterizedTest(name = "--expires-in {0} renews: {1}")
  @CsvSource({"1h, false", "23h, false", "24h, true", "25h, true"})
  void expiresInSetsWindow(String expiresIn, boolean renews) throws Exception {
    X509Certificate enrolled = ca.enroll(crt, key, "24h", KeySpec.EC_P256);

    CliRunner.Result result = cli.run("renew", crt.toString(), key.toString(), "--expires-in",
        expiresIn);

    assertThat(result.status()).as(result.err()).isZero();
    assertThat(Pem.readCertificate(crt).getSerialNumber().equals(enrolled.getSerialNumber()))
        .isEqualTo(!renews);
    assertThat(result.err().contains("is renewed when it expires within " + expiresIn))
        .isEqualTo(!renews);
  }

  @Test
  void rekeyReplacesKey() throws Exception {
    X509Certificate enrolled = ca.enroll(crt, key, "24h", KeySpec.of("EC", "P-384", null));
    byte[] keyBefore = Files.readAllBytes(key);

    CliRunner.Result result = cli.run("renew", crt.toString(), key.toString(), "--force",
        "--rekey");

    assertThat(result.status()).as(result.err()).isZero();
    X509Certificate renewed = Pem.readCertificate(crt);
    assertThat(Files.readAllBytes(key)).isNotEqualTo(keyBefore);
    assertThat(renewed.getPublicKey()).isNotEqualTo(enrolled.getPublicKey());
    assertThat(renewed.getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(Renewer.matches(KeyFiles.read(key, null), renewed.getPublicKey())).isTrue();
    assertThat(Files.getPosixFilePermissions(key)).isEqualTo(AtomicFiles.PRIVATE);
    assertThat(Files.getPosixFilePermissions(crt)).isEqualTo(AtomicFiles.PUBLIC);
    assertThat(result.err()).contains(", with a new key", "\u2714 Certificate: " + crt,
        "\u2714 Private Key: " + key);
  }

  @Test
  void execRunsAfterRenewal() throws Exception {
    ca.enroll(crt, key, "24h", KeySpec.EC_P256);
    Path marker = directory.resolve("reloaded");
    String command = "echo reloaded > '" + marker + "'";

    CliRunner.Result result = cli.run("renew", crt.toString(), key.toString(), "--force",
        "--exec", command);

    assertThat(result.status()).as(result.err()).isZero();
    assertThat(marker).hasContent("reloaded");
    assertThat(result.err()).endsWith("\u2714 Ran: " + command + System.lineSeparator());
  }

  @Test
  void failedExecReportsRenewal() throws Exception {
    X509Certificate enrolled = ca.enroll(crt, key, "24h", KeySpec.EC_P256);

    CliRunner.Result result = cli.run("renew", crt.toString(), key.toString(), "--force",
        "--exec", "echo no service >&2; exit 4");

    assertThat(result.status()).isEqualTo(1);
    assertThat(result.err()).contains("  | no service", "iidca renew: renewed " + crt
        + ", but the reload failed: --exec 'echo no service >&2; exit 4' exited with status 4");
    assertThat(Pem.readCertificate(crt).getSerialNumber())
        .isNotEqualTo(enrolled.getSerialNumber());
  }

  @Test
  void revokedCertificateFailsWithCaMessage() throws Exception {
    X509Certificate enrolled = ca.enroll(crt, key, "24h", KeySpec.EC_P256);
    ca.revoke(enrolled);
    byte[] crtBefore = Files.readAllBytes(crt);
    byte[] keyBefore = Files.readAllBytes(key);

    CliRunner.Result result = cli.run("renew", crt.toString(), key.toString(), "--force");

    assertThat(result.status()).as("a rejection by the CA").isEqualTo(3);
    assertThat(result.err()).contains("iidca renew: the CA rejected the renewal of certificate "
        + Renewer.serial(enrolled) + " (HTTP 403): ", "revoked");
    assertThat(Files.readAllBytes(crt)).isEqualTo(crtBefore);
    assertThat(Files.readAllBytes(key)).isEqualTo(keyBefore);
  }

  @Test
  void explicitCaUrlAndRootNeedNoBootstrap() throws Exception {
    X509Certificate enrolled = ca.enroll(crt, key, "24h", KeySpec.EC_P256);
    Path root = Files.writeString(directory.resolve("root.crt"), Pem.encode(ca.root()));
    CliRunner fresh = new CliRunner(directory.resolve("empty").toString());

    CliRunner.Result result = fresh.run("renew", crt.toString(), key.toString(), "--force",
        "--ca-url", ca.url().toString(), "--root", root.toString());

    assertThat(result.status()).as(result.err()).isZero();
    assertThat(Pem.readCertificate(crt).getSerialNumber())
        .isNotEqualTo(enrolled.getSerialNumber());
  }

  @Test
  void mismatchedKeyFailsBeforeRequest() throws Exception {
    ca.enroll(crt, key, "24h", KeySpec.EC_P256);
    Path otherKey = directory.resolve("other.key");
    KeyFiles.writePlain(otherKey, KeySpec.EC_P256.generate().getPrivate());

    CliRunner.Result result = cli.run("renew", crt.toString(), otherKey.toString(), "--force");

    assertThat(result.status()).isEqualTo(1);
    assertThat(result.err()).contains(otherKey.toAbsolutePath() + " does not match the"
        + " certificate in " + crt.toAbsolutePath());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "no files | | expected CRT_FILE KEY_FILE, got 0 arguments",
      "--signal alone | --signal USR1 | --signal needs --pid-file FILE",
      "unknown signal | --pid-file x.pid --signal KILL | --signal KILL is not supported",
      "bad duration | --expires-in soon | --expires-in: invalid duration 'soon'",
      "zero duration | --expires-in 0s | --expires-in 0s is invalid: it must be positive",
  })
  void usageErrorsExitTwo(String name, String options, String message) {
    List<String> args = new java.util.ArrayList<>(List.of("renew"));
    if (!name.equals("no files")) {
      args.add(crt.toString());
      args.add(key.toString());
    }
    if (options != null) {
      args.addAll(List.of(options.split(" ")));
    }

    CliRunner.Result result = cli.run(args.toArray(new String[0]));

    assertThat(result.status()).isEqualTo(2);
    assertThat(result.err()).contains("iidca renew: " + message);
  }

  @Test
  void helpListsOptions() {
    CliRunner.Result result = cli.run("renew", "--help");

    assertThat(result.status()).isZero();
    assertThat(result.out()).contains("iidca renew [options] CRT_FILE KEY_FILE", "--daemon",
        "--expires-in <DURATION>", "--rekey", "--exec <COMMAND>", "--pid-file <FILE>",
        "--signal <NAME>");
  }

  /**
   * A CA on 127.0.0.1 with provisioner {@value #PROVISIONER} (certificates of 10 s to 24 h)
   * that trusts a test AWS signer, and enrollment of a fresh emulated instance into a pair of
   * files, as {@code iidca certificate} writes them.
   */
  static final class TestCaServer implements AutoCloseable {

    static final String ACCOUNT = "123456789042";
    static final String PROVISIONER = "renewable";
    static final String SUBJECT = "app.internal";

    private final AwsTestSigner signer;
    private final TestCa ca;
    private final CaServer server;

    private TestCaServer(AwsTestSigner signer, TestCa ca, CaServer server) {
      this.signer = signer;
      this.ca = ca;
      this.server = server;
    }

    static TestCaServer start(Path directory) throws Exception {
      AwsTestSigner signer = AwsTestSigner.generate();
      TestCa ca = TestCa.create(directory);
      String certificates = ca.writeCertificates("emulator", signer.certificates());
      ca.addProvisioner(new ProvisionerConfig(PROVISIONER, ProvisionerConfig.TYPE_AWS,
          new Lifetime(Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofHours(24)),
          false, false, null, List.of(ACCOUNT), ProvisionerConfig.DEFAULT_AWS_FORMS,
          List.of(certificates)));
      CaRuntime runtime = CaRuntime.load(ca.files(), ca.config(), TestCa.PASSWORD,
          Clock.systemUTC());
      return new TestCaServer(signer, ca, CaServer.start(runtime,
          ListenAddress.parse("127.0.0.1:0")));
    }

    URI url() {
      return URI.create("https://127.0.0.1:" + server.port());
    }

    X509Certificate root() {
      return ca.root();
    }

    /** Returns a CLI whose IIDCA_PATH contains this CA's defaults, as bootstrap writes them. */
    CliRunner bootstrappedClient(Path iidcaPath) throws Exception {
      CaFiles files = new CaFiles(iidcaPath);
      Path root = iidcaPath.resolve("certs/root_ca.crt");
      AtomicFiles.write(root, Pem.encode(ca.root()).getBytes(StandardCharsets.US_ASCII),
          AtomicFiles.PUBLIC);
      new ClientDefaults(url().toString(), Fingerprints.of(ca.root()), root.toString())
          .save(files);
      return new CliRunner(iidcaPath.toString());
    }

    /**
     * Enrolls a new instance for a certificate that ends {@code notAfter} (such as 24h) from
     * now and writes the key and the chain.
     */
    X509Certificate enroll(Path certificateFile, Path keyFile, String notAfter,
        KeySpec keySpec) throws Exception {
      AwsInstance instance = AwsInstance.random(ACCOUNT, "us-east-1");
      byte[] document = instance.document();
      KeyPair keys = keySpec.generate();
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("csr", CsrBuilder.build(keys, SUBJECT, List.of(SUBJECT)));
      body.put("ott", AwsTokenBuilder.build(url().toString(), PROVISIONER, SUBJECT,
          List.of(SUBJECT), document, signer.signRsa2048(document), Instant.now()));
      body.put("notAfter", notAfter);
      CaClient.Response response = new CaClient(url(), root(), Duration.ofSeconds(10))
          .post("/1.0/sign", body);
      if (response.status() != 201) {
        throw new AssertionError("enrollment failed: HTTP " + response.status() + " "
            + response.message());
      }
      List<X509Certificate> chain = List.of(parse(response.body().get("crt").asText()),
          parse(response.body().get("ca").asText()));
      KeyFiles.writePlain(keyFile, keys.getPrivate());
      AtomicFiles.write(certificateFile, Pem.encodeChain(chain)
          .getBytes(StandardCharsets.US_ASCII), AtomicFiles.PUBLIC);
      return chain.get(0);
    }

    void revoke(X509Certificate certificate) {
      server.runtime().store().revoke(Renewer.serial(certificate), 1, "key compromise",
          "operator", Instant.now());
    }

    private static X509Certificate parse(String pem) throws Exception {
      return Pem.parseCertificates(pem.getBytes(StandardCharsets.US_ASCII)).get(0);
    }

    @Override
    public void close() {
      server.close();
    }
  }
}
