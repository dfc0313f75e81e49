package io.iidca.testkit.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iidca.ca.azure.AttestedDocument;
import io.iidca.ca.azure.AttestedDocumentVerifier;
import io.iidca.ca.azure.NonceStore;
import io.iidca.ca.config.AzureOptions;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.UnavailableException;
import io.iidca.ca.pki.CaFiles;
import io.iidca.ca.provisioner.AzureProvisioner;
import io.iidca.ca.provisioner.VerifiedIdentity;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The Azure IMDS emulator: its paths, headers and formats, and the CA accepting its output. */
class AzureMetadataEmulatorTest {

  private static final String TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  private static final String SUBSCRIPTION = "0a1b2c3d-0000-4000-8000-00000000000a";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static AzureMetadataEmulator emulator;

  @BeforeAll
  static void start() {
    emulator = AzureMetadataEmulator.builder()
        .instance(new AzureInstance(TENANT, SUBSCRIPTION, "web-rg", "web-1",
            "5d06deb3-807b-46dd-aef5-78aaf9193f71", "11111111-2222-4333-8444-555555555555",
            "eastus", "AzurePublicCloud"))
        .start();
  }

  @AfterAll
  static void stop() {
    emulator.close();
  }

  private static HttpResponse<String> get(String pathAndQuery, boolean metadataHeader)
      throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(
        URI.create(emulator.endpoint() + pathAndQuery));
    if (metadataHeader) {
      request.header("Metadata", "true");
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @ParameterizedTest
  @CsvSource({
      "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://x/",
      "/metadata/attested/document?api-version=2020-09-01&nonce=1234567890",
      "/metadata/instance/compute?api-version=2021-02-01"})
  void missingMetadataHeaderIsBadRequest(String path) throws Exception {
    HttpResponse<String> response = get(path, false);

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(response.body()).get("error").asText())
        .isEqualTo("Bad request. Required metadata header not specified");
  }

  @Test
  void missingApiVersionIsBadRequest() throws Exception {
    HttpResponse<String> response = get("/metadata/instance/compute", true);

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body()).contains("api-version was not specified");
  }

  @Test
  void missingResourceIsBadRequest() throws Exception {
    HttpResponse<String> response =
        get("/metadata/identity/oauth2/token?api-version=2018-02-01", true);

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(response.body()).get("error").asText()).isEqualTo("invalid_request");
  }

  @Test
  void tokenResponseHasAzureFields() throws Exception {
    HttpResponse<String> response = get("/metadata/identity/oauth2/token?api-version=2018-02-01"
        + "&resource=https%3A%2F%2Fmanagement.azure.com%2F", true);
    JsonNode body = JSON.readTree(response.body());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(body.get("token_type").asText()).isEqualTo("Bearer");
    assertThat(body.get("resource").asText()).isEqualTo("https://management.azure.com/");
    assertThat(body.get("expires_in").asText()).isEqualTo("86400");
    assertThat(Long.parseLong(body.get("expires_on").asText()))
        .isGreaterThan(Instant.now().getEpochSecond());
    assertThat(body.get("access_token").asText().split("\\.")).hasSize(3);
  }

  @Test
  void computeMetadataDescribesInstance() throws Exception {
    JsonNode body = JSON.readTree(
        get("/metadata/instance/compute?api-version=2021-02-01", true).body());

    assertThat(body.get("azEnvironment").asText()).isEqualTo("AzurePublicCloud");
    assertThat(body.get("name").asText()).isEqualTo("web-1");
    assertThat(body.get("vmId").asText()).isEqualTo("5d06deb3-807b-46dd-aef5-78aaf9193f71");
    assertThat(body.get("subscriptionId").asText()).isEqualTo(SUBSCRIPTION);
    assertThat(body.get("resourceGroupName").asText()).isEqualTo("web-rg");
    assertThat(body.get("location").asText()).isEqualTo("eastus");
  }

  @Test
  void azEnvironmentAsText() throws Exception {
    HttpResponse<String> response = get(
        "/metadata/instance/compute/azEnvironment?api-version=2021-02-01&format=text", true);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("AzurePublicCloud");
  }

  @Test
  void attestedDocumentVerifiesWithExportedRoots() throws Exception {
    JsonNode body = JSON.readTree(get(
        "/metadata/attested/document?api-version=2020-09-01&nonce=0123456789", true).body());
    AttestedDocumentVerifier verifier = AttestedDocumentVerifier.forCloud(
        AzureOptions.PUBLIC_CLOUD, emulator.signer().roots());

    AttestedDocument document = verifier.verify(body.get("signature").asText(), Instant.now());

    assertThat(body.get("encoding").asText()).isEqualTo("pkcs7");
    assertThat(document.nonce()).isEqualTo("0123456789");
    assertThat(document.vmId()).isEqualTo("5d06deb3-807b-46dd-aef5-78aaf9193f71");
    assertThat(document.subscriptionId()).isEqualTo(SUBSCRIPTION);
  }

  @Test
  void untrustedDocumentIsRejected() {
    String signature = emulator.signer().signDocumentUntrusted(
        emulator.attestedContent("0123456789", emulator.instance()));
    AttestedDocumentVerifier verifier = AttestedDocumentVerifier.forCloud(
        AzureOptions.PUBLIC_CLOUD, emulator.signer().roots());

    assertThatThrownBy(() -> verifier.verify(signature, Instant.now()))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("no valid path to a trusted root");
  }

  @Test
  void keysCarryCacheControlAndAreCounted() throws Exception {
    int before = emulator.keyFetchCount();
    HttpResponse<String> response = get("/common/discovery/keys", false);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Cache-Control"))
        .contains("max-age=86400, private");
    assertThat(JSON.readTree(response.body()).get("keys").get(0).get("kid").asText())
        .isEqualTo(emulator.signer().keyId());
    assertThat(emulator.keyFetchCount()).isEqualTo(before + 1);
  }

  @Test
  void openIdConfigurationNamesKeys() throws Exception {
    JsonNode body = JSON.readTree(HTTP.send(HttpRequest.newBuilder(emulator.openIdConfigUrl())
        .build(), HttpResponse.BodyHandlers.ofString()).body());

    assertThat(body.get("issuer").asText()).isEqualTo("https://sts.windows.net/{tenantid}/");
    assertThat(body.get("jwks_uri").asText())
        .isEqualTo(emulator.endpoint() + "/common/discovery/keys");
  }

  /**
   * The keys are named at the address the client used, because an emulator listening on a
   * wildcard address, as in a network namespace, cannot name its keys by the bound address.
   */
  @ParameterizedTest
  @CsvSource({
      "localhost:8171, http://localhost:8171/common/discovery/keys",
      "127.0.0.2, http://127.0.0.2/common/discovery/keys",
      "'bad\"host', BOUND"})
  void jwksUriFollowsHostHeader(String host, String expected) throws Exception {
    String path = emulator.openIdConfigUrl().getPath();
    String response;
    try (Socket socket = new Socket(emulator.endpoint().getHost(),
        emulator.endpoint().getPort())) {
      socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host
          + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
    JsonNode body = JSON.readTree(response.substring(response.indexOf("\r\n\r\n") + 4));

    assertThat(response).startsWith("HTTP/1.1 200");
    assertThat(body.get("jwks_uri").asText()).isEqualTo(expected.equals("BOUND")
        ? emulator.endpoint() + "/common/discovery/keys" : expected);
  }

  /** The CA's provisioner, pointed at the emulator, accepts what the emulator serves. */
  @Test
  void provisionerAcceptsEmulatorEnrollment(@TempDir Path directory) throws Exception {
    Files.writeString(directory.resolve("azure-roots.pem"), emulator.signer().rootsPem());
    AzureOptions options = new AzureOptions(TENANT, AzureOptions.PUBLIC_CLOUD, null,
        List.of(SUBSCRIPTION), List.of(), List.of(), emulator.openIdConfigUrl().toString(), true,
        List.of("azure-roots.pem"));
    Set<String> issued = new HashSet<>();
    NonceStore nonces = new NonceStore() {
      @Override
      public String issueNonce(String provisioner, Instant expiresAt) {
        issued.add("4242424242");
        return "4242424242";
      }

      @Override
      public boolean consumeNonce(String provisioner, String nonce, Instant now) {
        return issued.remove(nonce);
      }

      @Override
      public int purgeExpiredNonces(Instant now) {
        return 0;
      }
    };
    AzureProvisioner provisioner = AzureProvisioner.forConfig(
        ProvisionerConfig.azure("azure-test", options), new CaFiles(directory), nonces);
    String nonce = nonces.issueNonce("azure-test", Instant.now().plusSeconds(300));
    String token = JSON.readTree(get("/metadata/identity/oauth2/token?api-version=2018-02-01"
        + "&resource=https://management.azure.com/", true).body()).get("access_token").asText();
    String document = JSON.readTree(get("/metadata/attested/document?api-version=2020-09-01"
        + "&nonce=" + nonce, true).body()).get("signature").asText();

    VerifiedIdentity identity = provisioner.verify(token, document, Instant.now());

    assertThat(identity.instanceId()).isEqualTo("vm:5d06deb3-807b-46dd-aef5-78aaf9193f71");
    assertThat(identity.vouchedNames()).containsExactly("web-1");
  }

  @Test
  void failedKeyFetchesMakeProvisionerUnavailable(@TempDir Path directory) {
    AzureOptions options = new AzureOptions(TENANT, AzureOptions.PUBLIC_CLOUD, null, List.of(),
        List.of(), List.of(), emulator.openIdConfigUrl().toString(), false, List.of());
    AzureProvisioner provisioner = AzureProvisioner.forConfig(
        ProvisionerConfig.azure("azure-down", options), new CaFiles(directory), null);
    String token = emulator.signer().signToken(
        emulator.tokenClaims("https://management.azure.com/").build());
    emulator.failKeyFetches(true);
    try {
      assertThatThrownBy(() -> provisioner.verify(token, null, Instant.now()))
          .isInstanceOf(UnavailableException.class)
          .hasMessageContaining("HTTP 500");
    } finally {
      emulator.failKeyFetches(false);
    }
  }
}
