package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** CaClient's HTTP against plain servers on 127.0.0.1: abandoned requests and 401 bodies. */
class CaClientTransportTest {

  /**
   * The caller is interrupted while TCP still connects (accept queue full). The caller gets
   * InterruptedException, so the request must not reach the CA afterwards.
   */
  @Test
  void interruptDuringConnectSendsNothing() throws Exception {
    try (FullAcceptQueue full = new FullAcceptQueue()) {
      URI url = URI.create("http://127.0.0.1:" + full.port());
      CaClient client = new CaClient(url, SSLContext.getDefault(), Duration.ofSeconds(20),
          Duration.ofSeconds(20), d -> { }, () -> 0.5);
      AtomicReference<Throwable> thrown = new AtomicReference<>();
      Thread caller = new Thread(() -> {
        try {
          client.post("/1.0/renew", "{}".getBytes(StandardCharsets.UTF_8));
        } catch (Throwable e) {
          thrown.set(e);
        }
      });
      caller.start();
      // Gives the request time to reach the connect, which the full accept queue holds up.
      Thread.sleep(500);
      caller.interrupt();
      caller.join(2000);
      assertThat(caller.isAlive()).isFalse();
      assertThat(thrown.get()).isInstanceOf(InterruptedException.class);

      // Frees the accept queue, so that an abandoned request that still connects gets through.
      ServerSocket server = full.drain();
      server.setSoTimeout(8000);
      String firstLine = null;
      try (Socket late = server.accept()) {
        late.setSoTimeout(3000);
        firstLine = new BufferedReader(new InputStreamReader(late.getInputStream(),
            StandardCharsets.US_ASCII)).readLine();
      } catch (SocketTimeoutException noConnection) {
        // Also right: the abandoned request never connected. One that did connect must close
        // without a request line, so that readLine returns null.
      }
      assertThat(firstLine).as("request line that reached the CA after the interrupt")
          .isNull();
    }
  }

  /**
   * A 401 with the CA's JSON body, with and without {@code WWW-Authenticate}, which RFC 9110
   * requires of every 401 and a gateway in front of the CA may add: the message must reach the
   * caller of a POST as it does that of a GET.
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void postKeeps401Body(boolean challenge) throws Exception {
    HttpServer server = HttpServer.create(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", exchange -> {
      exchange.getRequestBody().readAllBytes();
      byte[] body = "{\"message\":\"the identity token is expired\"}"
          .getBytes(StandardCharsets.UTF_8);
      if (challenge) {
        exchange.getResponseHeaders().add("WWW-Authenticate", "Bearer");
      }
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(401, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    try {
      URI url = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
      CaClient client = new CaClient(url, SSLContext.getDefault(), Duration.ofSeconds(5),
          d -> { }, () -> 0.5);
      CaClient.Response post = client.post("/1.0/sign", "{}".getBytes(StandardCharsets.UTF_8));
      CaClient.Response get = client.get("/provisioners");

      assertThat(post.status()).isEqualTo(401);
      assertThat(get.message()).isEqualTo("the identity token is expired");
      assertThat(post.message()).isEqualTo("the identity token is expired");
    } finally {
      server.stop(0);
    }
  }

  /**
   * A CA host that does not resolve. The name is under .invalid, which RFC 6761, 6.4 reserves:
   * resolvers should return NXDOMAIN for it without sending a query upstream.
   */
  @Test
  void unresolvedHostNamesHost() throws Exception {
    URI url = URI.create("https://ca.invalid:8443");
    CaClient client = new CaClient(url, SSLContext.getDefault(), Duration.ofSeconds(5),
        d -> { }, () -> 0.5);

    assertThatThrownBy(() -> client.get("/health"))
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith("cannot resolve host ca.invalid of the CA at " + url + ": ")
        .hasMessageContaining("--ca-url")
        .hasMessageContaining("/etc/hosts");
  }
}
