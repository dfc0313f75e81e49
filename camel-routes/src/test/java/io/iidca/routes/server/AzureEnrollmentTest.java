package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.iidca.ca.config.AzureOptions;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.Pem;
import io.iidca.routes.client.AzureMetadataClient;
import io.iidca.routes.client.CaClient;
import io.iidca.routes.client.CsrBuilder;
import io.iidca.testkit.azure.AzureInstance;
import io.iidca.testkit.azure.AzureMetadataEmulator;
import io.iidca.testkit.pki.TestCa;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
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
 * Azure enrollment through the real CA over HTTPS: a nonce from {@code POST /1.0/azure/nonce},
 * the token and attested document from the IMDS emulator, and {@code POST /1.0/sign}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AzureEnrollmentTest {

  static final String TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  static final String SUBSCRIPTION = "0a1b2c3d-0000-4000-8000-00000000000a";

  @TempDir
  static Path directory;

  AzureMetadataEmulator emulator;
  AzureMetadataClient imds;
  CaServer server;
  CaClient client;

  @BeforeAll
  void startCa() throws Exception {
    emulator = AzureMetadataEmulator.builder()
        .instance(AzureInstance.random(TENANT, SUBSCRIPTION))
        .start();
    imds = new AzureMetadataClient(emulator.endpoint(), Duration.ofSeconds(5));
    TestCa ca = TestCa.create(directory.resolve("ca"));
    String roots = ca.writeCertificates("azure-roots", emulator.signer().roots());
    ca.addProvisioner(ProvisionerConfig.azure("azure", new AzureOptions(TENANT,
        AzureOptions.PUBLIC_CLOUD, null, List.of(SUBSCRIPTION), List.of(), List.of(),
        emulator.openIdConfigUrl().toString(), true, List.of(roots))));
    ca.addProvisioner(ProvisionerConfig.aws("aws", List.of("123456789042")));
    CaRuntime runtime = CaRuntime.load(ca.files(), ca.config(), TestCa.PASSWORD,
        Clock.systemUTC());
    server = CaServer.start(runtime, ListenAddress.parse("127.0.0.1:0"));
    client = new CaClient(java.net.URI.create("https://127.0.0.1:" + server.port()), ca.root(),
        Duration.ofSeconds(5));
  }

  /** Resets the VM's registration, because every test enrolls it and TOFU allows one. */
  @BeforeEach
  void resetRegistration() {
    server.runtime().store().resetRegistration("azure", "vm:" + emulator.instance().vmId());
  }

  @AfterAll
  void stop() {
    server.close();
    emulator.close();
  }

  @ParameterizedTest
  @CsvSource({"/1.0/azure/nonce", "/azure/nonce"})
  void nonceIsIssued(String path) throws Exception {
    CaClient.Response response = client.post(path, Map.of("provisioner", "azure"));

    assertThat(response.status()).isEqualTo(201);
    assertThat(response.body().get("nonce").asText()).matches("[0-9]{10}");
    assertThat(response.body().get("expiresAt").asText()).endsWith("Z");
  }

  @ParameterizedTest
  @CsvSource({"unknown, 404", "aws, 404"})
  void nonceForOtherProvisionerIsNotFound(String name, int status) throws Exception {
    assertThat(client.post("/1.0/azure/nonce", Map.of("provisioner", name)).status())
        .isEqualTo(status);
  }

  @Test
  void nonceWithoutProvisionerIsBadRequest() throws Exception {
    assertThat(client.post("/1.0/azure/nonce", Map.of("name", "azure")).status())
        .isEqualTo(400);
  }

  private Map<String, Object> signRequest(String document) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair keys = generator.generateKeyPair();
    String vmName = emulator.instance().vmName();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("csr", CsrBuilder.build(keys, vmName, List.of(vmName)));
    body.put("ott", imds.token(AzureMetadataClient.resourceFor(imds.environment())));
    body.put("provisioner", "azure");
    if (document != null) {
      body.put("attestedDocument", document);
    }
    return body;
  }

  private String attestedDocument() throws Exception {
    String nonce = client.post("/1.0/azure/nonce", Map.of("provisioner", "azure")).body()
        .get("nonce").asText();
    return imds.attestedDocument(nonce);
  }

  @Test
  void attestedEnrollmentIsSigned() throws Exception {
    CaClient.Response response = client.post("/1.0/sign", signRequest(attestedDocument()));

    assertThat(response.status()).as(response.message()).isEqualTo(201);
    X509Certificate leaf = Pem.parseCertificates(response.body().get("crt").asText()
        .getBytes(StandardCharsets.US_ASCII)).get(0);
    assertThat(leaf.getSubjectX500Principal().getName())
        .isEqualTo("CN=" + emulator.instance().vmName());
  }

  @Test
  void replayedDocumentIsRejected() throws Exception {
    Map<String, Object> request = signRequest(attestedDocument());
    assertThat(client.post("/1.0/sign", request).status()).isEqualTo(201);
    resetRegistration();

    CaClient.Response replay = client.post("/1.0/sign", request);

    assertThat(replay.status()).isEqualTo(401);
  }

  @Test
  void documentWithUnknownNonceIsRejected() throws Exception {
    assertThat(client.post("/1.0/sign", signRequest(imds.attestedDocument("9999999999")))
        .status()).isEqualTo(401);
  }

  @Test
  void missingDocumentIsRejected() throws Exception {
    assertThat(client.post("/1.0/sign", signRequest(null)).status()).isEqualTo(401);
  }
}
