package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.iidca.ca.provisioner.Audience;
import io.iidca.testkit.gcp.GcpMetadataEmulator;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link GcpMetadataClient} against the GCP metadata emulator and against servers that are not
 * a metadata server; the environment is passed as a map, never read from the process.
 */
class GcpMetadataClientTest {

  static final Duration TIMEOUT = Duration.ofSeconds(5);

  private final GcpMetadataEmulator emulator = GcpMetadataEmulator.builder().start();
  private HttpServer plain;

  @AfterEach
  void close() {
    emulator.close();
    if (plain != null) {
      plain.stop(0);
    }
  }

  private GcpMetadataClient client() {
    URI endpoint = GcpMetadataClient.endpointFromEnvironment(
        Map.of(GcpMetadataClient.HOST_VARIABLE, emulator.metadataHost()));
    return new GcpMetadataClient(endpoint, TIMEOUT);
  }

  @Test
  void fetchReturnsFullTokenForAudience() throws Exception {
    String audience = "https://ca.local:8443/1.0/sign#gcp/My GCP & Co";

    SignedJWT jwt = SignedJWT.parse(client().fetchIdentityToken(audience));

    assertThat(jwt.getJWTClaimsSet().getAudience()).containsExactly(audience);
    assertThat(jwt.getJWTClaimsSet().getJSONObjectClaim("google")).containsKey("compute_engine");
  }

  @Test
  void boundAudienceCarriesKeyDigest() throws Exception {
    PublicKey key = KeyPairGenerator.getInstance("EC").generateKeyPair().getPublic();
    String audience = GcpMetadataClient.boundAudience("https://ca.local", "GCP", key);

    String token = client().fetchIdentityToken(audience);

    String aud = SignedJWT.parse(token).getJWTClaimsSet().getAudience().get(0);
    assertThat(aud).isEqualTo(audience);
    assertThat(Audience.parse(aud).orElseThrow().spki()).isEqualTo(Audience.spkiDigest(key));
  }

  /** Returns rows of the environment and the endpoint it selects. */
  static Stream<Arguments> environments() {
    Map<String, String> blank = new HashMap<>();
    blank.put(GcpMetadataClient.HOST_VARIABLE, " ");
    return Stream.of(
        Arguments.of(Map.of(), "http://metadata.google.internal"),
        Arguments.of(blank, "http://metadata.google.internal"),
        Arguments.of(Map.of("GCE_METADATA_HOST", "127.0.0.1:8170"), "http://127.0.0.1:8170"),
        Arguments.of(Map.of("GCE_METADATA_HOST", "[::1]:8170"), "http://[::1]:8170"),
        Arguments.of(Map.of("GCE_METADATA_HOST", "169.254.169.254"),
            "http://169.254.169.254"),
        Arguments.of(Map.of("GCE_METADATA_HOST", "metadata.google.internal:80"),
            "http://metadata.google.internal:80"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("environments")
  void endpointFromEnvironment(Map<String, String> environment, String expected) {
    assertThat(GcpMetadataClient.endpointFromEnvironment(environment))
        .isEqualTo(URI.create(expected));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"http://127.0.0.1:8170", "127.0.0.1:8170/path", "user@host",
      "host?x=1", "a b", ":80"})
  void endpointFromInvalidVariable(String value) {
    assertThatThrownBy(() -> GcpMetadataClient.endpointFromEnvironment(
        Map.of(GcpMetadataClient.HOST_VARIABLE, value)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("GCE_METADATA_HOST '" + value + "' is invalid: set it to host[:port]"
            + " without a scheme or path, such as 127.0.0.1:8170, or unset it to use"
            + " metadata.google.internal");
  }

  private URI plainServer(int status, boolean flavor, String body) throws IOException {
    plain = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    plain.createContext("/", exchange -> {
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      if (flavor) {
        exchange.getResponseHeaders().add("Metadata-Flavor", "Google");
      }
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    });
    plain.start();
    return URI.create("http://127.0.0.1:" + plain.getAddress().getPort());
  }

  /** Returns rows of a response's status, flavor header and body, and the error it causes. */
  static Stream<Arguments> badResponses() {
    return Stream.of(
        Arguments.of(200, false, "a.b.c", "without the header Metadata-Flavor: Google, so the"
            + " server is not a Compute Engine metadata server; check GCE_METADATA_HOST"),
        Arguments.of(404, true, "", "returned 404: the instance has no service account"),
        Arguments.of(403, true, "", "returned 403: the metadata server rejects requests"),
        Arguments.of(500, true, "", "returned HTTP 500, expected 200"),
        Arguments.of(200, true, "not a token", "returned 11 characters that are not a"
            + " signed JWT"));
  }

  @ParameterizedTest(name = "{0} {2}")
  @MethodSource("badResponses")
  void fetchRejectsBadResponse(int status, boolean flavor, String body, String message)
      throws Exception {
    URI endpoint = plainServer(status, flavor, body);

    assertThatThrownBy(() -> new GcpMetadataClient(endpoint, TIMEOUT).fetchIdentityToken("a"))
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith("GET " + endpoint
            + "/computeMetadata/v1/instance/service-accounts/default/identity")
        .hasMessageContaining(message);
  }

  @Test
  void fetchFromClosedPortNamesVariable() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    URI endpoint = URI.create("http://127.0.0.1:" + port);

    assertThatThrownBy(() -> new GcpMetadataClient(endpoint, TIMEOUT).fetchIdentityToken("a"))
        .isInstanceOf(IOException.class)
        .hasMessage("cannot connect to the metadata server at " + endpoint + ": is this a"
            + " Compute Engine instance, or should GCE_METADATA_HOST point at a metadata"
            + " emulator?");
  }
}
