package io.iidca.ca.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.iidca.ca.config.AzureOptions;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.UnavailableException;
import io.iidca.ca.provisioner.AzureProvisioner;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Attacks on the Azure provisioner's parts: a token whose text differs from a used one but
 * verifies the same, a key server that trickles its body, and {@code xms_mirid} forms with
 * extra or missing segments.
 */
class CloudBreakerAzureUnitTest {

  private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
  private static final String SUBSCRIPTION = TestTenant.SUBSCRIPTION;

  private static TestTenant tenant;

  @BeforeAll
  static void startTenant() throws Exception {
    tenant = new TestTenant();
  }

  @AfterAll
  static void stopTenant() {
    tenant.close();
  }

  private static AzureProvisioner provisioner() {
    AzureOptions options = new AzureOptions(TestTenant.TENANT, AzureOptions.PUBLIC_CLOUD, null,
        List.of(), List.of(), List.of(), tenant.openIdConfigUrl().toString(), false,
        List.of());
    TenantKeys keys = new TenantKeys(tenant.openIdConfigUrl(), TestTenant.TENANT,
        TenantKeys.defaultClient(), Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofMinutes(5),
        Duration.ofSeconds(10));
    return new AzureProvisioner(ProvisionerConfig.azure("azure-prod", options), keys,
        AttestedDocumentVerifier.forCloud(AzureOptions.PUBLIC_CLOUD, List.of()),
        new AzureProvisionerTest.MemoryNonces());
  }

  /** Returns the token with each other last character that decodes to the same signature. */
  private static List<String> respellings(String token) {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int last = token.length() - 1;
    int value = alphabet.indexOf(token.charAt(last));
    List<String> spellings = new ArrayList<>();
    for (int low = 0; low < 16; low++) {
      int variant = (value & ~0xF) | low;
      if (variant != value) {
        spellings.add(token.substring(0, last) + alphabet.charAt(variant));
      }
    }
    return spellings;
  }

  @Test
  void respelledTokenKeepsTokenId() throws Exception {
    String token = tenant.sign(TestTenant.claims(NOW).build());
    AzureProvisioner provisioner = provisioner();
    String tokenId = provisioner.verify(token, null, NOW).tokenId();

    for (String respelled : respellings(token)) {
      String respelledId;
      try {
        respelledId = provisioner.verify(respelled, null, NOW).tokenId();
      } catch (IdentityRejectedException rejected) {
        continue;
      }
      assertThat(respelledId).as("token id of %s", respelled).isEqualTo(tokenId);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/",
      "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines",
      "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/x/y",
      "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets"
          + "/ss",
      "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets"
          + "/ss/virtualMachines/1/extra",
      "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets"
          + "/ss/networkInterfaces/1",
      "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/disks/vm",
      "/subscriptions/%s/resourceGroups//providers/Microsoft.Compute/virtualMachines/vm",
      "//subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm",
      "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm ",
      "/subscriptions/%s/providers/Microsoft.Compute/virtualMachines/vm/resourceGroups/rg",
  })
  void malformedResourceIdIsRejected(String form) {
    String text = form.formatted(SUBSCRIPTION);

    assertThatThrownBy(() -> ResourceId.parse(text)).as(text)
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void tricklingKeyServerTimesOut() throws Exception {
    try (TricklingServer server = new TricklingServer()) {
      TenantKeys keys = TenantKeys.create(server.url(), TestTenant.TENANT, Clock.systemUTC());

      // The guard only stops a hang: the fetch has a 5 s timeout per document.
      assertTimeoutPreemptively(Duration.ofSeconds(60), () ->
          assertThatThrownBy(() -> keys.key("k", null))
              .isInstanceOf(UnavailableException.class));
    }
  }

  /**
   * A loopback HTTP server that sends the headers of a 1 MB response and then one byte a
   * second, until it is closed.
   */
  private static final class TricklingServer implements AutoCloseable {
    private final ServerSocket socket;
    private final Thread thread;

    TricklingServer() throws IOException {
      socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      thread = new Thread(this::serve, "trickling-key-server");
      thread.setDaemon(true);
      thread.start();
    }

    URI url() {
      return URI.create("http://127.0.0.1:" + socket.getLocalPort()
          + "/tenant/.well-known/openid-configuration");
    }

    private void serve() {
      while (!socket.isClosed()) {
        try (Socket client = socket.accept()) {
          client.getInputStream().read(new byte[4096]);
          OutputStream out = client.getOutputStream();
          out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
              + "Content-Length: 1000000\r\n\r\n{").getBytes(StandardCharsets.US_ASCII));
          out.flush();
          while (!socket.isClosed()) {
            Thread.sleep(1000);
            out.write(' ');
            out.flush();
          }
        } catch (IOException | InterruptedException e) {
          return;
        }
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
      thread.interrupt();
    }
  }
}
