package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.azure.AttestedDocument;
import io.iidca.ca.azure.AttestedDocumentVerifier;
import io.iidca.ca.config.AzureOptions;
import io.iidca.testkit.azure.AzureMetadataEmulator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The Azure metadata client against the emulator, and its errors. */
class AzureMetadataClientTest {

  private static AzureMetadataEmulator emulator;
  private static AzureMetadataClient client;

  @BeforeAll
  static void start() {
    emulator = AzureMetadataEmulator.builder().start();
    client = new AzureMetadataClient(emulator.endpoint(), Duration.ofSeconds(5));
  }

  @AfterAll
  static void stop() {
    emulator.close();
  }

  @Test
  void environmentIsRead() throws Exception {
    assertThat(client.environment()).isEqualTo("AzurePublicCloud");
  }

  @ParameterizedTest
  @CsvSource({
      "AzurePublicCloud, https://management.azure.com/",
      "AzureUSGovernmentCloud, https://management.usgovcloudapi.net/",
      "AzureChinaCloud, https://management.chinacloudapi.cn/"})
  void environmentNamesResource(String environment, String resource) throws Exception {
    assertThat(AzureMetadataClient.resourceFor(environment)).isEqualTo(resource);
  }

  @Test
  void unknownEnvironmentIsRejected() {
    assertThatThrownBy(() -> AzureMetadataClient.resourceFor("AzureGermanCloud"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("unknown azEnvironment 'AzureGermanCloud'");
  }

  @Test
  void tokenHasRequestedAudience() throws Exception {
    String token = client.token("https://management.azure.com/");

    SignedJWT jwt = SignedJWT.parse(token);
    assertThat(jwt.getJWTClaimsSet().getAudience()).containsExactly(
        "https://management.azure.com/");
    assertThat(jwt.getJWTClaimsSet().getStringClaim("xms_mirid"))
        .isEqualTo(emulator.instance().resourceId());
  }

  @Test
  void attestedDocumentCarriesNonce() throws Exception {
    String signature = client.attestedDocument("0123456789");

    AttestedDocument document = AttestedDocumentVerifier.forCloud(AzureOptions.PUBLIC_CLOUD,
        emulator.signer().roots()).verify(signature, Instant.now());
    assertThat(document.nonce()).isEqualTo("0123456789");
    assertThat(document.vmId()).isEqualTo(emulator.instance().vmId());
  }

  @Test
  void invalidNonceIsRejectedBeforeRequest() {
    assertThatThrownBy(() -> client.attestedDocument("12345&x=1"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("nonce '12345&x=1' is not 1 to 32 letters and digits");
  }

  @Test
  void refusedConnectionNamesEndpointAndFix() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress("127.0.0.1", 0));
      port = socket.getLocalPort();
    }
    AzureMetadataClient closed = new AzureMetadataClient(
        URI.create("http://127.0.0.1:" + port), Duration.ofSeconds(2));

    assertThatThrownBy(closed::environment)
        .isInstanceOf(IOException.class)
        .hasMessageContaining("http://127.0.0.1:" + port)
        .hasMessageContaining(AzureMetadataClient.ENDPOINT_VARIABLE);
  }

  @Test
  void imdsErrorIsReported() {
    AzureMetadataClient wrongPath = new AzureMetadataClient(
        URI.create(emulator.endpoint() + "/nowhere"), Duration.ofSeconds(2));

    assertThatThrownBy(() -> wrongPath.token("https://management.azure.com/"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("returned HTTP 404");
  }
}
