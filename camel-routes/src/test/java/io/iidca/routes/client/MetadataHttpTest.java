package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link MetadataHttp#exchangeWithin}: the deadline over the whole response, the interrupt that
 * abandons a request, and headers read without regard to case. Each test runs its own server on
 * loopback.
 */
class MetadataHttpTest {

  @Test
  void interruptClosesSilentConnection() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Exchange exchange = Exchange.start(uri(server, "/silent"), Duration.ofMinutes(5));
      try (Socket accepted = server.accept()) {
        accepted.setSoTimeout(60_000);
        InputStream in = accepted.getInputStream();
        readRequestHead(in);

        exchange.caller().interrupt();

        assertThat(exchange.failure()).isInstanceOf(InterruptedException.class);
        assertThat(in.read()).as("the client closed the connection").isEqualTo(-1);
      }
    }
  }

  @Test
  void deadlineCoversTheWholeBody() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      URI uri = uri(server, "/trickle");
      Exchange exchange = Exchange.start(uri, Duration.ofSeconds(1));
      try (Socket accepted = server.accept()) {
        readRequestHead(accepted.getInputStream());
        OutputStream out = accepted.getOutputStream();
        out.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII));
        // A byte every 200 ms keeps each read within the 1-s timeout for 200 s in all.
        try {
          while (!exchange.outcome().isDone()) {
            out.write('x');
            out.flush();
            Thread.sleep(200);
          }
        } catch (IOException closed) {
          // The client gave up and closed the connection.
        }
        assertThat(exchange.failure())
            .isInstanceOf(SocketTimeoutException.class)
            .hasMessage("GET " + uri + " timed out after 1000 ms");
      }
    }
  }

  @Test
  void tooLargeBodyIsRejected() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      URI uri = uri(server, "/large");
      Thread answer = new Thread(() -> answer(server, "HTTP/1.1 200 OK\r\nContent-Length: 20"
          + "\r\n\r\n" + "y".repeat(20)));
      answer.start();

      assertThatThrownBy(() -> MetadataHttp.exchangeWithin("GET", uri, Map.of(), null,
          Duration.ofSeconds(30), 10)).isInstanceOf(MetadataHttp.TooLargeException.class)
          .hasMessage("GET /large returned more than 10 bytes");
      answer.join(60_000);
    }
  }

  @Test
  void headerIsMatchedWithoutCase() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      URI uri = uri(server, "/flavor");
      Thread answer = new Thread(() -> answer(server, "HTTP/1.1 200 OK\r\nmetadata-flavor:"
          + " Google\r\nContent-Length: 2\r\n\r\nok"));
      answer.start();

      MetadataHttp.Response response = MetadataHttp.exchangeWithin("GET", uri, Map.of(), null,
          Duration.ofSeconds(30), 10);

      assertThat(response.status()).isEqualTo(200);
      assertThat(response.header("Metadata-Flavor")).isEqualTo("Google");
      assertThat(response.header("X-Absent")).isNull();
      assertThat(new String(response.body(), StandardCharsets.US_ASCII)).isEqualTo("ok");
      answer.join(60_000);
    }
  }

  /** A GET on a thread of its own, and its failure, or null, once it ends. */
  private record Exchange(Thread caller, CompletableFuture<Throwable> outcome) {

    static Exchange start(URI uri, Duration deadline) {
      CompletableFuture<Throwable> outcome = new CompletableFuture<>();
      Thread caller = new Thread(() -> {
        try {
          MetadataHttp.exchangeWithin("GET", uri, Map.of(), null, deadline, 1024);
          outcome.complete(null);
        } catch (Exception e) {
          outcome.complete(e);
        }
      });
      caller.start();
      return new Exchange(caller, outcome);
    }

    /** Waits up to 60 s for the exchange to end and returns its failure, or null. */
    Throwable failure() throws Exception {
      return outcome.get(60, TimeUnit.SECONDS);
    }
  }

  private static URI uri(ServerSocket server, String path) {
    return URI.create("http://127.0.0.1:" + server.getLocalPort() + path);
  }

  /** Accepts one connection, reads the request head and sends {@code response}. */
  private static void answer(ServerSocket server, String response) {
    try (Socket accepted = server.accept()) {
      readRequestHead(accepted.getInputStream());
      accepted.getOutputStream().write(response.getBytes(StandardCharsets.US_ASCII));
      accepted.getOutputStream().flush();
    } catch (IOException e) {
      // The client closed the connection.
    }
  }

  /** Reads up to the blank line that ends a request head. */
  private static void readRequestHead(InputStream in) throws IOException {
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    while (matched < end.length) {
      int next = in.read();
      if (next < 0) {
        throw new IOException("the client closed the connection before its request ended");
      }
      matched = next == end[matched] ? matched + 1 : (next == '\r' ? 1 : 0);
    }
  }
}
