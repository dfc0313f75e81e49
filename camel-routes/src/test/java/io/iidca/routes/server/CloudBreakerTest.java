package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.iidca.ca.config.AzureOptions;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.provisioner.AzureProvisioner;
import io.iidca.ca.store.JdbcStore;
import io.iidca.ca.store.Registration;
import io.iidca.ca.testing.MutableClock;
import io.iidca.routes.client.AzureMetadataClient;
import io.iidca.routes.client.CaClient;
import io.iidca.routes.client.CsrBuilder;
import io.iidca.routes.client.GcpMetadataClient;
import io.iidca.testkit.azure.AzureInstance;
import io.iidca.testkit.azure.AzureMetadataEmulator;
import io.iidca.testkit.pki.TestCa;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
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

/**
 * Attacks on Azure enrollment through the HTTP API and on the Azure metadata client: a token
 * whose signature is spelled differently, the same VM enrolled once with and once without an
 * attested document, and a metadata server that trickles or inflates its response.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CloudBreakerTest {

  static final String TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  static final String SUBSCRIPTION = "0a1b2c3d-0000-4000-8000-00000000000a";
  static final String RESOURCE = "https://management.azure.com/";
  /** Accepts the token alone, or with a document when one is sent. */
  static final String OPTIONAL = "azure-optional";

  @TempDir
  static Path directory;

  final MutableClock clock = new MutableClock();
  AzureMetadataEmulator emulator;
  AzureInstance vm;
  AzureMetadataClient imds;
  CaServer server;
  CaClient client;
  JdbcStore store;

  @BeforeAll
  void startCa() throws Exception {
    vm = AzureInstance.random(TENANT, SUBSCRIPTION);
    emulator = AzureMetadataEmulator.builder().instance(vm).clock(clock).start();
    imds = new AzureMetadataClient(emulator.endpoint(), Duration.ofSeconds(5));

    TestCa ca = TestCa.create(directory.resolve("ca"));
    String roots = ca.writeCertificates("azure-roots", emulator.signer().roots());
    ca.addProvisioner(ProvisionerConfig.azure(OPTIONAL, new AzureOptions(TENANT,
        AzureOptions.PUBLIC_CLOUD, null, List.of(SUBSCRIPTION), List.of(), List.of(),
        emulator.openIdConfigUrl().toString(), false, List.of(roots))));

    CaRuntime loaded = CaRuntime.load(ca.files(), ca.config(), TestCa.PASSWORD, clock);
    Map<String, AzureProvisioner> azure = new LinkedHashMap<>();
    for (ProvisionerConfig provisioner : loaded.provisioners()) {
      azure.put(provisioner.name(), AzureProvisioner.forConfig(provisioner, loaded.files(),
          loaded.store(), clock));
    }
    CaRuntime runtime = new CaRuntime(loaded.files(), loaded.config(), loaded.issuer(),
        loaded.store(), Map.of(), Map.of(), azure, clock);
    server = CaServer.start(runtime, ListenAddress.parse("127.0.0.1:0"));
    store = runtime.store();
    client = new CaClient(URI.create("https://127.0.0.1:" + server.port()), ca.root(),
        Duration.ofSeconds(5));
  }

  @AfterAll
  void stop() {
    server.close();
    emulator.close();
  }

  @BeforeEach
  void resetRegistrations() {
    for (Registration registration : store.registrations(null)) {
      store.resetRegistration(registration.provisioner(), registration.instanceId());
    }
  }

  @Test
  void respelledTokenIsReplay() throws Exception {
    String token = imds.token(RESOURCE);
    assertThat(post(token, null).status()).isEqualTo(201);
    resetRegistrations();

    CaClient.Response again = post(respelled(token), null);

    assertThat(again.status()).as(again.message()).isEqualTo(401);
  }

  @Test
  void documentAndTokenAloneShareRegistration() throws Exception {
    String nonce = issueNonce();
    assertThat(post(imds.token(RESOURCE), imds.attestedDocument(nonce)).status())
        .isEqualTo(201);
    clock.advance(Duration.ofHours(2));

    CaClient.Response tokenAlone = post(imds.token(RESOURCE), null);

    assertThat(tokenAlone.status()).as(tokenAlone.message()).isEqualTo(403);
  }

  @Test
  void tricklingImdsTimesOut() throws Exception {
    try (FakeImds fake = new FakeImds(null)) {
      AzureMetadataClient slow = new AzureMetadataClient(fake.url(), Duration.ofSeconds(2));

      // Each byte comes within the 2-s timeout, so only a deadline over the whole response
      // ends the read. The guard only stops a hang.
      assertTimeoutPreemptively(Duration.ofSeconds(60), () ->
          assertThatThrownBy(() -> slow.token(RESOURCE)).isInstanceOf(IOException.class)
              .hasMessageContaining("timed out after 2000 ms"));
    }
  }

  @Test
  void tricklingGcpMetadataTimesOut() throws Exception {
    try (FakeImds fake = new FakeImds(null)) {
      GcpMetadataClient slow = new GcpMetadataClient(fake.url(), Duration.ofSeconds(2));

      // Each byte comes within the 2-s timeout, so only a deadline over the whole response
      // ends the read. The guard only stops a hang.
      assertTimeoutPreemptively(Duration.ofSeconds(60), () ->
          assertThatThrownBy(() -> slow.fetchIdentityToken("https://ca.local/1.0/sign#gcp/g"))
              .isInstanceOf(IOException.class).hasMessageContaining("timed out after 2000 ms"));
    }
  }

  @Test
  void hugeImdsAnswerIsRejected() throws Exception {
    // 16 MiB of short strings, because Jackson itself rejects one string over 20 MB.
    String item = "\"" + "A".repeat(1022) + "\"";
    String padding = String.join(",", java.util.Collections.nCopies(16 * 1024, item));
    String body = "{\"access_token\":\"a.b.c\",\"padding\":[" + padding + "]}";
    try (FakeImds fake = new FakeImds(body)) {
      AzureMetadataClient inflated = new AzureMetadataClient(fake.url(), Duration.ofSeconds(30));

      assertThatThrownBy(() -> inflated.token(RESOURCE)).isInstanceOf(IOException.class)
          .hasMessageContaining("more than any token or attested document needs");
    }
  }

  @Test
  void hugeGcpMetadataAnswerIsRejected() throws Exception {
    // FakeImds sends no Metadata-Flavor header, but the size limit must stop the read first.
    try (FakeImds fake = new FakeImds("A".repeat(16 * 1024 * 1024))) {
      GcpMetadataClient inflated = new GcpMetadataClient(fake.url(), Duration.ofSeconds(30));

      assertThatThrownBy(() -> inflated.fetchIdentityToken("https://ca.local/1.0/sign#gcp/g"))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("more than any identity token needs");
    }
  }

  /** Returns the token with the unused low bits of its last signature character changed. */
  static String respelled(String token) {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int last = token.length() - 1;
    int value = alphabet.indexOf(token.charAt(last));
    return token.substring(0, last) + alphabet.charAt(value ^ 0x1);
  }

  CaClient.Response post(String token, String document) throws Exception {
    Map<String, Object> body = new LinkedHashMap<>();
    KeyPair keys = KeySpec.of("EC", "P-256", null).generate();
    body.put("csr", CsrBuilder.build(keys, vm.vmName(), List.of(vm.vmName())));
    body.put("ott", token);
    body.put("provisioner", OPTIONAL);
    if (document != null) {
      body.put("attestedDocument", document);
    }
    return client.post("/1.0/sign", body);
  }

  String issueNonce() throws Exception {
    CaClient.Response response = client.post("/1.0/azure/nonce",
        Map.of("provisioner", OPTIONAL));
    assertThat(response.status()).as(response.message()).isEqualTo(201);
    return response.body().get("nonce").asText();
  }

  /**
   * A loopback stand-in for IMDS that responds to every request with 200 and {@code body}, or with
   * the headers of a 1 MB body and then one byte a second when {@code body} is null.
   */
  static final class FakeImds implements AutoCloseable {
    private final ServerSocket socket;
    private final Thread thread;
    private final byte[] body;

    FakeImds(String body) throws IOException {
      this.body = body == null ? null : body.getBytes(StandardCharsets.US_ASCII);
      socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      thread = new Thread(this::serve, "fake-imds");
      thread.setDaemon(true);
      thread.start();
    }

    URI url() {
      return URI.create("http://127.0.0.1:" + socket.getLocalPort());
    }

    private void serve() {
      while (!socket.isClosed()) {
        try (Socket connection = socket.accept()) {
          connection.getInputStream().read(new byte[4096]);
          OutputStream out = connection.getOutputStream();
          int length = body == null ? 1_000_000 : body.length;
          out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
              + length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
          if (body != null) {
            out.write(body);
          } else {
            trickle(out);
          }
          out.flush();
        } catch (IOException | InterruptedException e) {
          // The client closed the connection or the test closed the server.
        }
      }
    }

    private void trickle(OutputStream out) throws IOException, InterruptedException {
      out.write('{');
      while (!socket.isClosed()) {
        out.flush();
        Thread.sleep(1000);
        out.write(' ');
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
      thread.interrupt();
    }
  }
}
