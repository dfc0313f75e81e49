package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How {@link CaClient} handles 429: against a plain HTTP server on 127.0.0.1 that plays the
 * CA's admission control, with the client's waits recorded instead of slept. Also the messages
 * for a CA that accepts a connection and never completes the handshake, or never responds.
 */
class CaClientRetryTest {

  private static final Instant NOW = Instant.parse("2026-12-05T03:00:00Z");

  /** The statuses and Retry-After values of the next responses, in order; then 201. */
  private final ConcurrentLinkedQueue<String[]> answers = new ConcurrentLinkedQueue<>();
  private final List<String> bodies = new CopyOnWriteArrayList<>();
  private final List<Duration> waits = new ArrayList<>();
  private HttpServer server;
  private CaClient client;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::answer);
    server.start();
    URI url = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    client = new CaClient(url, SSLContext.getDefault(), Duration.ofSeconds(5), waits::add,
        () -> 0.5);
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private void answer(HttpExchange exchange) throws IOException {
    bodies.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
    String[] next = answers.poll();
    int status = next == null ? 201 : Integer.parseInt(next[0]);
    if (next != null && next.length > 1) {
      exchange.getResponseHeaders().add("Retry-After", next[1]);
    }
    byte[] body = ("{\"status\":" + status + ",\"message\":\"answer " + bodies.size() + "\"}")
        .getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, body.length);
    exchange.getResponseBody().write(body);
    exchange.close();
  }

  @Test
  void resendsRequestAfter429() throws Exception {
    answers.add(new String[] {"429", "2"});
    answers.add(new String[] {"429", "1"});

    CaClient.Response response = client.post("/1.0/sign", Map.of("csr", "x", "ott", "y"));

    assertThat(response.status()).isEqualTo(201);
    assertThat(response.message()).isEqualTo("answer 3");
    assertThat(bodies).hasSize(3).containsOnly(bodies.get(0));
    assertThat(bodies.get(0)).contains("\"ott\":\"y\"");
    // The delay requested, plus half of it times the jitter of 0.5.
    assertThat(waits).containsExactly(Duration.ofMillis(2500), Duration.ofMillis(1250));
  }

  @Test
  void returnsLast429AfterMaxWait() throws Exception {
    for (int i = 0; i < 5; i++) {
      answers.add(new String[] {"429", "20"});
    }

    CaClient.Response response = client.post("/1.0/sign", Map.of());

    // Waits of 25 s: two fit into 60 s, a third would not.
    assertThat(response.status()).isEqualTo(429);
    assertThat(response.message()).isEqualTo("answer 3");
    assertThat(waits).containsExactly(Duration.ofSeconds(25), Duration.ofSeconds(25));
    assertThat(bodies).hasSize(3);
  }

  @Test
  void otherStatusesAreReturnedAtOnce() throws Exception {
    answers.add(new String[] {"503", "5"});

    CaClient.Response response = client.get("/provisioners");

    assertThat(response.status()).isEqualTo(503);
    assertThat(waits).isEmpty();
    assertThat(bodies).hasSize(1);
  }

  @Test
  void missingRetryAfterWaitsOneSecond() throws Exception {
    answers.add(new String[] {"429"});

    assertThat(client.get("/roots").status()).isEqualTo(201);
    assertThat(waits).containsExactly(Duration.ofMillis(1250));
  }

  @Test
  void parsesRetryAfterWithinBounds() {
    String inTenSeconds = DateTimeFormatter.RFC_1123_DATE_TIME
        .format(NOW.plusSeconds(10).atOffset(ZoneOffset.UTC));
    String anHourAgo = DateTimeFormatter.RFC_1123_DATE_TIME
        .format(NOW.minusSeconds(3600).atOffset(ZoneOffset.UTC));

    assertThat(wait("3")).isEqualTo(Duration.ofSeconds(3));
    assertThat(wait(" 4 ")).isEqualTo(Duration.ofSeconds(4));
    assertThat(wait(inTenSeconds)).isEqualTo(Duration.ofSeconds(10));
    assertThat(wait("0")).isEqualTo(CaClient.DEFAULT_RETRY_AFTER);
    assertThat(wait(anHourAgo)).isEqualTo(CaClient.DEFAULT_RETRY_AFTER);
    assertThat(wait("soon")).isEqualTo(CaClient.DEFAULT_RETRY_AFTER);
    assertThat(wait("-5")).isEqualTo(CaClient.DEFAULT_RETRY_AFTER);
    assertThat(wait("")).isEqualTo(CaClient.DEFAULT_RETRY_AFTER);
    assertThat(wait("3600")).isEqualTo(CaClient.MAX_RETRY_AFTER);
    assertThat(wait("99999999999999999999")).isEqualTo(CaClient.MAX_RETRY_AFTER);
    assertThat(CaClient.throttledWait(Optional.empty(), 0, NOW))
        .isEqualTo(CaClient.DEFAULT_RETRY_AFTER);
    assertThat(CaClient.throttledWait(Optional.of("30"), 0.999, NOW))
        .isEqualTo(Duration.ofMillis(44_985));
  }

  private static Duration wait(String retryAfter) {
    return CaClient.throttledWait(Optional.of(retryAfter), 0, NOW);
  }

  @Test
  void silentTlsServerNamesCa() throws Exception {
    // The kernel completes the TCP handshake for the backlog; the TLS handshake gets no reply,
    // which the request timeout bounds.
    try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      URI url = URI.create("https://127.0.0.1:" + silent.getLocalPort());
      CaClient silentClient = new CaClient(url, SSLContext.getDefault(), Duration.ofSeconds(5),
          Duration.ofSeconds(1), waits::add, () -> 0.5);

      assertThatThrownBy(() -> silentClient.get("/provisioners"))
          .isInstanceOf(IOException.class)
          .hasMessage("the CA at " + url + " accepted no TLS connection within 1 s: is it"
              + " overloaded, or is another service listening on that port?");
    }
    assertThat(waits).isEmpty();
  }

  @Test
  void fullBacklogNamesConnectTimeout() throws Exception {
    try (FullAcceptQueue full = new FullAcceptQueue()) {
      URI url = URI.create("https://127.0.0.1:" + full.port());
      CaClient client = new CaClient(url, SSLContext.getDefault(), Duration.ofSeconds(1),
          Duration.ofSeconds(5), waits::add, () -> 0.5);

      assertThatThrownBy(() -> client.get("/provisioners"))
          .isInstanceOf(IOException.class)
          .hasMessage("the CA at " + url + " accepted no connection within 1 s: is the"
              + " address right, and does a firewall let the connection through?");
    }
    assertThat(waits).isEmpty();
  }

  @Test
  void requestTimeoutNamesCaAndRequest() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    server.createContext("/provisioners", exchange -> {
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      exchange.close();
    });
    URI url = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    CaClient hanging = new CaClient(url, SSLContext.getDefault(), Duration.ofSeconds(5),
        Duration.ofSeconds(1), waits::add, () -> 0.5);
    try {
      assertThatThrownBy(() -> hanging.get("/provisioners"))
          .isInstanceOf(IOException.class)
          .hasMessage("the CA at " + url + " did not respond to GET /provisioners within 1 s;"
              + " check the CA's log, then try again");
    } finally {
      release.countDown();
    }
    assertThat(waits).isEmpty();
  }
}
