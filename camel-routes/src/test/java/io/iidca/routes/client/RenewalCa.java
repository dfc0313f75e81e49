package io.iidca.routes.client;

import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.io.AtomicFiles;
import io.iidca.ca.pki.KeyFiles;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.store.JdbcStore;
import io.iidca.routes.server.CaRuntime;
import io.iidca.routes.server.CaServer;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsTestSigner;
import io.iidca.testkit.pki.TestCa;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A CA on 127.0.0.1 with provisioner {@value #PROVISIONER} (certificates of 10 s to 24 h) that
 * trusts a test AWS signer, and enrollment of a fresh emulated instance into a pair of files,
 * as {@code iidca certificate} writes them.
 */
final class RenewalCa implements AutoCloseable {

  static final String ACCOUNT = "123456789042";
  static final String PROVISIONER = "renewable";
  static final String SUBJECT = "app.internal";

  private final AwsTestSigner signer;
  private final TestCa ca;
  private final CaServer server;

  private RenewalCa(AwsTestSigner signer, TestCa ca, CaServer server) {
    this.signer = signer;
    this.ca = ca;
    this.server = server;
  }

  static RenewalCa start(Path directory) throws Exception {
    AwsTestSigner signer = AwsTestSigner.generate();
    TestCa ca = TestCa.create(directory);
    String certificates = ca.writeCertificates("emulator", signer.certificates());
    ca.addProvisioner(new ProvisionerConfig(PROVISIONER, ProvisionerConfig.TYPE_AWS,
        new Lifetime(Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofHours(24)),
        false, false, null, List.of(ACCOUNT), ProvisionerConfig.DEFAULT_AWS_FORMS,
        List.of(certificates)));
    CaRuntime runtime = CaRuntime.load(ca.files(), ca.config(), TestCa.PASSWORD,
        Clock.systemUTC());
    return new RenewalCa(signer, ca, CaServer.start(runtime,
        ListenAddress.parse("127.0.0.1:0")));
  }

  URI url() {
    return URI.create("https://127.0.0.1:" + server.port());
  }

  X509Certificate root() {
    return ca.root();
  }

  /** Returns the AWS signer whose documents the CA accepts, for a metadata emulator. */
  AwsTestSigner signer() {
    return signer;
  }

  /**
   * Enrolls a new instance for a certificate that ends {@code notAfter} (such as 24h) from
   * now and writes the key and the chain.
   */
  X509Certificate enroll(Path certificateFile, Path keyFile, String notAfter, KeySpec keySpec)
      throws Exception {
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

  JdbcStore store() {
    return server.runtime().store();
  }

  void revoke(X509Certificate certificate) {
    server.runtime().store().revoke(certificate.getSerialNumber().toString(16), 1,
        "key compromise", "operator", Instant.now());
  }

  private static X509Certificate parse(String pem) throws Exception {
    return Pem.parseCertificates(pem.getBytes(StandardCharsets.US_ASCII)).get(0);
  }

  @Override
  public void close() {
    server.close();
  }
}
