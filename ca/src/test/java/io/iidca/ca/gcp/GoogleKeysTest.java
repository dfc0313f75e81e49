package io.iidca.ca.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.iidca.ca.error.UnavailableException;
import io.iidca.ca.testing.MutableClock;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link GoogleKeys} against a key set server on loopback that the test controls: caching by
 * max-age with a test clock, the rate limit on fetches for unknown key ids, failures as 503
 * with recovery, stale keys while fetches fail, timeouts, size limit and key filtering.
 */
class GoogleKeysTest {

  static final Instant START = Instant.parse("2024-05-01T12:00:00Z");
  static final RSAKey KEY_A = rsa("key-a", 2048);
  static final RSAKey KEY_B = rsa("key-b", 2048);

  private final MutableClock clock = new MutableClock(START);
  private final AtomicInteger fetches = new AtomicInteger();
  private final CountDownLatch release = new CountDownLatch(1);
  private final List<Socket> heldSockets = new ArrayList<>();
  private HttpServer server;
  private volatile int status = 200;
  private volatile String body = json(KEY_A);
  private volatile String cacheControl = "public, max-age=600";
  private volatile boolean stallBody;

  @BeforeEach
  void startServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/certs", this::serve);
    server.setExecutor(Executors.newCachedThreadPool());
    server.start();
  }

  @AfterEach
  void stopServer() throws IOException {
    release.countDown();
    server.stop(0);
    for (Socket socket : heldSockets) {
      socket.close();
    }
  }

  private void serve(HttpExchange exchange) throws IOException {
    fetches.incrementAndGet();
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    if (cacheControl != null) {
      exchange.getResponseHeaders().add("Cache-Control", cacheControl);
    }
    if (status == 302) {
      exchange.getResponseHeaders().add("Location", "https://www.googleapis.com/oauth2/v3/certs");
    }
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      if (stallBody) {
        out.write(bytes, 0, 10);
        out.flush();
        release.await();
      }
      out.write(bytes);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private URI url() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/certs");
  }

  private GoogleKeys keys() {
    return GoogleKeys.fetching(url(), GoogleKeys.Settings.DEFAULT
        .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2)), clock);
  }

  static RSAKey rsa(String kid, int bits) {
    try {
      return new RSAKeyGenerator(bits, true).keyID(kid).keyUse(KeyUse.SIGNATURE)
          .algorithm(JWSAlgorithm.RS256).generate().toPublicJWK();
    } catch (com.nimbusds.jose.JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  static String json(JWK... keys) {
    return new JWKSet(List.of(keys)).toString();
  }

  @Test
  void keysStayFreshForMaxAge() {
    GoogleKeys keys = keys();

    assertThat(keys.find("key-a")).isEqualTo(KEY_A);
    clock.advance(Duration.ofSeconds(599));
    assertThat(keys.find("key-a")).isEqualTo(KEY_A);
    assertThat(fetches).hasValue(1);

    clock.advance(Duration.ofSeconds(1));
    assertThat(keys.find("key-a")).isEqualTo(KEY_A);
    assertThat(fetches).hasValue(2);
  }

  @Test
  void unknownKidRefetchesAtMostOncePerInterval() {
    GoogleKeys keys = keys();
    assertThat(keys.find("key-a")).isEqualTo(KEY_A);

    body = json(KEY_A, KEY_B);
    clock.advance(Duration.ofSeconds(9));
    assertThat(keys.find("unknown")).isNull();
    assertThat(keys.find("key-b")).isNull();
    assertThat(fetches).as("fetches within 10 s of the first").hasValue(1);

    clock.advance(Duration.ofSeconds(1));
    assertThat(keys.find("key-b")).isEqualTo(KEY_B);
    assertThat(fetches).hasValue(2);
    assertThat(keys.find("unknown")).isNull();
    assertThat(fetches).hasValue(2);
  }

  @Test
  void firstFetchOfUnknownKidDoesNotRefetch() {
    GoogleKeys keys = keys();

    assertThat(keys.find("unknown")).isNull();
    assertThat(fetches).hasValue(1);
  }

  @Test
  void serverErrorIsUnavailableThenRecovers() {
    GoogleKeys keys = keys();
    status = 500;

    assertThatThrownBy(() -> keys.find("key-a"))
        .isInstanceOf(UnavailableException.class)
        .hasMessage("verify-gcp: GET " + url() + " returned HTTP 500, expected 200");
    assertThatThrownBy(() -> keys.find("key-a"))
        .isInstanceOf(UnavailableException.class)
        .hasMessageContaining("the next attempt is allowed at " + START.plusSeconds(10));
    assertThat(fetches).hasValue(1);

    status = 200;
    clock.advance(Duration.ofSeconds(10));
    assertThat(keys.find("key-a")).isEqualTo(KEY_A);
    assertThat(fetches).hasValue(2);
  }

  @Test
  void staleKeysServedWhileFetchFailsUntilMaxKeyAge() {
    GoogleKeys keys = keys();
    assertThat(keys.find("key-a")).isEqualTo(KEY_A);
    status = 503;

    clock.advance(Duration.ofMinutes(10));
    assertThat(keys.find("key-a")).isEqualTo(KEY_A);
    assertThat(fetches).hasValue(2);

    clock.advance(Duration.ofHours(48));
    assertThatThrownBy(() -> keys.find("key-a"))
        .isInstanceOf(UnavailableException.class)
        .hasMessageContaining("returned HTTP 503");
    assertThat(fetches).hasValue(3);
  }

  @Test
  void redirectIsNotFollowed() {
    status = 302;

    assertThatThrownBy(() -> keys().find("key-a"))
        .isInstanceOf(UnavailableException.class)
        .hasMessageContaining("returned HTTP 302, expected 200");
  }

  @Test
  void oversizedBodyIsUnavailable() {
    body = "{\"keys\":[], \"padding\":\"" + "x".repeat(70_000) + "\"}";

    assertThatThrownBy(() -> keys().find("key-a"))
        .isInstanceOf(UnavailableException.class)
        .hasMessageContaining("returned more than 65536 bytes");
  }

  @ParameterizedTest
  @ValueSource(strings = {"not json", "{\"keys\": 1}", "{\"keys\": []}"})
  void bodyWithoutKeysIsUnavailable(String text) {
    body = text;

    assertThatThrownBy(() -> keys().find("key-a"))
        .isInstanceOf(UnavailableException.class)
        .hasMessageStartingWith("verify-gcp: GET " + url() + " returned");
  }

  @Test
  void serverThatNeverAnswersTimesOut() throws IOException {
    ServerSocket stalled = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(() -> {
      try {
        while (true) {
          Socket socket = stalled.accept();
          synchronized (heldSockets) {
            heldSockets.add(socket);
          }
        }
      } catch (IOException e) {
        // Closed by the test.
      }
    });
    acceptor.setDaemon(true);
    acceptor.start();
    GoogleKeys keys = GoogleKeys.fetching(
        URI.create("http://127.0.0.1:" + stalled.getLocalPort() + "/certs"),
        GoogleKeys.Settings.DEFAULT.withTimeouts(Duration.ofMillis(500),
            Duration.ofMillis(500)), clock);
    try {
      assertThatThrownBy(() -> keys.find("key-a"))
          .isInstanceOf(UnavailableException.class)
          .hasMessageContaining("timed out after 500ms");
    } finally {
      stalled.close();
    }
  }

  @Test
  void bodyThatStallsTimesOut() {
    stallBody = true;
    GoogleKeys keys = GoogleKeys.fetching(url(), GoogleKeys.Settings.DEFAULT
        .withTimeouts(Duration.ofMillis(500), Duration.ofMillis(500)), clock);

    assertThatThrownBy(() -> keys.find("key-a"))
        .isInstanceOf(UnavailableException.class)
        .hasMessageContaining("timed out after 500ms");
  }

  @Test
  void concurrentFindsFetchOnce() throws Exception {
    GoogleKeys keys = keys();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<RSAKey>> results = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        results.add(pool.submit(() -> keys.find("key-a")));
      }
      for (Future<RSAKey> result : results) {
        assertThat(result.get()).isEqualTo(KEY_A);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(fetches).hasValue(1);
  }

  @Test
  void onlyRs256SigningKeysAreKept() throws Exception {
    RSAKey encryption = new RSAKey.Builder(rsa("enc", 2048)).keyUse(KeyUse.ENCRYPTION).build();
    RSAKey rs512 = new RSAKey.Builder(rsa("rs512", 2048)).algorithm(JWSAlgorithm.RS512).build();
    RSAKey bare = new RSAKey.Builder(rsa("bare", 2048)).keyUse(null).algorithm(null).build();
    RSAKey noKid = new RSAKey.Builder(rsa("x", 2048)).keyID(null).build();
    JWK ec = new ECKeyGenerator(Curve.P_256).keyID("ec").generate().toPublicJWK();
    body = json(encryption, rs512, bare, noKid, ec, rsa("small", 1024), KEY_A);
    GoogleKeys keys = keys();

    assertThat(keys.find("key-a")).isEqualTo(KEY_A);
    assertThat(keys.find("bare")).isEqualTo(bare);
    for (String kid : List.of("enc", "rs512", "ec", "small")) {
      assertThat(keys.find(kid)).as(kid).isNull();
    }
  }

  @Test
  void fixedKeysNeverFetch() {
    GoogleKeys keys = GoogleKeys.fixed(new JWKSet(KEY_A), "google-jwk.json");

    assertThat(keys.find("key-a")).isEqualTo(KEY_A);
    assertThat(keys.find("key-b")).isNull();
    assertThat(keys.origin()).isEqualTo("google-jwk.json");
    assertThat(fetches).hasValue(0);
  }

  @Test
  void fixedKeysWithoutUsableKeyAreInvalid() {
    JWKSet set = new JWKSet(new RSAKey.Builder(KEY_A).keyUse(KeyUse.ENCRYPTION).build());

    assertThatThrownBy(() -> GoogleKeys.fixed(set, "keys.json"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("keys.json has no RSA signing key with a kid");
  }

  @ParameterizedTest
  @ValueSource(strings = {"http://example.com/certs", "http://10.0.0.1/certs",
      "ftp://127.0.0.1/certs", "/certs", "http://169.254.169.254/certs"})
  void urlMustBeHttpsOrLoopback(String url) {
    assertThatThrownBy(() -> GoogleKeys.fetching(URI.create(url)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be https://");
  }

  @ParameterizedTest
  @ValueSource(strings = {"https://www.googleapis.com/oauth2/v3/certs",
      "http://127.0.0.1:8080/certs", "http://localhost/certs", "http://[::1]:1/certs"})
  void urlAcceptedWithoutFetching(String url) {
    assertThat(GoogleKeys.fetching(URI.create(url)).origin()).isEqualTo(url);
  }

  /** Returns rows of the caching headers and the freshness they give, after the bounds. */
  static Stream<Arguments> cacheHeaders() {
    String date = "Wed, 01 May 2024 12:00:00 GMT";
    return Stream.of(
        Arguments.of(Map.of("Cache-Control", List.of("public, max-age=20536, must-revalidate,"
            + " no-transform")), Duration.ofSeconds(20536)),
        Arguments.of(Map.of("Cache-Control", List.of("max-age=600"), "Age", List.of("100")),
            Duration.ofSeconds(500)),
        Arguments.of(Map.of("Cache-Control", List.of("max-age=5")), Duration.ofMinutes(1)),
        Arguments.of(Map.of("Cache-Control", List.of("max-age=999999")), Duration.ofHours(24)),
        Arguments.of(Map.of("Cache-Control", List.of("no-cache, max-age=600")),
            Duration.ofMinutes(1)),
        Arguments.of(Map.of("Cache-Control", List.of("max-age=abc")), Duration.ofMinutes(5)),
        Arguments.of(Map.of(), Duration.ofMinutes(5)),
        Arguments.of(Map.of("Date", List.of(date),
            "Expires", List.of("Wed, 01 May 2024 14:00:00 GMT")), Duration.ofHours(2)),
        Arguments.of(Map.of("Expires", List.of("Wed, 01 May 2024 13:00:00 GMT")),
            Duration.ofHours(1)),
        Arguments.of(Map.of("Expires", List.of("0")), Duration.ofMinutes(1)));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("cacheHeaders")
  void cacheAgeFollowsHeadersWithinBounds(Map<String, List<String>> headers,
      Duration expected) {
    HttpHeaders http = HttpHeaders.of(headers, (name, value) -> true);

    assertThat(keys().cacheAge(http, START)).isEqualTo(expected);
  }
}
