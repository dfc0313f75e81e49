package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link SignAdmission} in front of a plain HTTP Vert.x router on 127.0.0.1, with a signing
 * route that reads the body and keeps its requests open until the test ends them.
 */
class SignAdmissionTest {

  private final List<RoutingContext> pending = new CopyOnWriteArrayList<>();
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private SignAdmission admission;
  private Vertx vertx;
  private HttpServer server;

  @BeforeEach
  void start() throws Exception {
    start(new SignAdmission(2, 0, Duration.ofSeconds(1)));
  }

  /** Replaces the server with one behind {@code next}. */
  private void start(SignAdmission next) throws Exception {
    if (vertx != null) {
      stop();
    }
    admission = next;
    vertx = Vertx.vertx();
    Router router = Router.router(vertx);
    admission.install(router);
    for (String path : SignAdmission.PATHS) {
      router.post(path).handler(BodyHandler.create()).handler(pending::add);
    }
    router.get("/health").handler(context -> context.response().end("ok"));
    server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void requestBeyondLimitGets429WithRetryAfter() throws Exception {
    CompletableFuture<HttpResponse<String>> first = post("/sign");
    CompletableFuture<HttpResponse<String>> second = post("/1.0/renew");
    awaitPending(2);

    HttpResponse<String> third = post("/1.0/sign").get(10, TimeUnit.SECONDS);

    assertThat(third.statusCode()).isEqualTo(429);
    assertThat(third.headers().firstValue("Retry-After")).hasValue("1");
    assertThat(third.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(third.body()).isEqualTo(
        "{\"status\":429,\"message\":\"Too many requests; retry later.\"}");
    assertThat(pending).hasSize(2);
    release();
    assertThat(first.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(201);
    assertThat(second.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(201);
  }

  @Test
  void endedRequestsFreeTheirPlaces() throws Exception {
    post("/sign");
    post("/rekey");
    awaitPending(2);

    releaseAndCheckThatThePlacesAreFree();
  }

  @Test
  void otherRoutesAreNotCounted() throws Exception {
    post("/sign");
    post("/sign");
    awaitPending(2);

    HttpResponse<String> health = client.send(HttpRequest.newBuilder(uri("/health")).build(),
        HttpResponse.BodyHandlers.ofString());

    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(admission.inFlight()).isEqualTo(2);
    release();
  }

  @Test
  void waitingRequestGetsFreedPlace() throws Exception {
    start(new SignAdmission(2, 2, Duration.ofSeconds(60)));
    post("/sign", "{\"n\":1}");
    post("/sign", "{\"n\":2}");
    awaitPending(2);
    CompletableFuture<HttpResponse<String>> third = post("/1.0/sign", "{\"n\":3}");
    awaitWaiting(1);
    CompletableFuture<HttpResponse<String>> fourth = post("/1.0/renew", "{\"n\":4}");
    awaitWaiting(2);

    releaseFirst();
    awaitPending(2);

    assertThat(pending.get(1).body().asString()).isEqualTo("{\"n\":3}");
    assertThat(admission.inFlight()).isEqualTo(2);
    assertThat(admission.waiting()).isEqualTo(1);
    releaseFirst();
    awaitPending(2);
    assertThat(pending.get(1).body().asString()).isEqualTo("{\"n\":4}");
    assertThat(admission.waiting()).isZero();
    release();
    assertThat(third.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(201);
    assertThat(fourth.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(201);
    awaitInFlight(0);
  }

  @Test
  void fullLineGets429AtOnce() throws Exception {
    start(new SignAdmission(1, 1, Duration.ofSeconds(60)));
    post("/sign");
    awaitPending(1);
    CompletableFuture<HttpResponse<String>> waiting = post("/sign");
    awaitWaiting(1);

    HttpResponse<String> third = post("/sign").get(10, TimeUnit.SECONDS);

    assertThat(third.statusCode()).isEqualTo(429);
    assertThat(waiting).isNotDone();
    release();
    awaitPending(1);
    release();
    assertThat(waiting.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(201);
  }

  @Test
  void waitTimeoutGets429() throws Exception {
    start(new SignAdmission(1, 1, Duration.ofMillis(200)));
    post("/sign");
    awaitPending(1);

    HttpResponse<String> late = post("/sign", "{\"n\":2}").get(10, TimeUnit.SECONDS);

    assertThat(late.statusCode()).isEqualTo(429);
    assertThat(late.headers().firstValue("Retry-After")).hasValue("1");
    assertThat(admission.waiting()).isZero();
    assertThat(admission.inFlight()).isEqualTo(1);
    assertThat(pending).hasSize(1);
    release();
    awaitInFlight(0);
  }

  @Test
  void closedWaitingRequestLeavesLine() throws Exception {
    start(new SignAdmission(1, 1, Duration.ofSeconds(60)));
    post("/sign");
    awaitPending(1);
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.actualPort())) {
      OutputStream out = socket.getOutputStream();
      out.write(("POST /sign HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n{")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      awaitWaiting(1);
    }

    awaitWaiting(0);
    releaseAndCheckThatThePlacesAreFree();
  }

  @Test
  void invalidLimitsAreRejected() {
    org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
        .isThrownBy(() -> new SignAdmission(0, 0, Duration.ofSeconds(1)))
        .withMessage("maxInFlight must be at least 1, got 0");
    org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
        .isThrownBy(() -> new SignAdmission(1, -1, Duration.ofSeconds(1)))
        .withMessage("maxWaiting must not be negative, got -1");
    org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
        .isThrownBy(() -> new SignAdmission(1, 0, Duration.ZERO))
        .withMessage("maxWait must be positive, got PT0S");
  }

  @Test
  void defaultLineMatchesLimitAndRetryAfter() {
    SignAdmission defaults = SignAdmission.forAvailableProcessors();

    assertThat(defaults.maxWaiting()).isEqualTo(defaults.maxInFlight());
    assertThat(defaults.maxWait()).isEqualTo(
        Duration.ofSeconds(SignAdmission.RETRY_AFTER_SECONDS));
  }

  private CompletableFuture<HttpResponse<String>> post(String path) {
    return post(path, "{}");
  }

  private CompletableFuture<HttpResponse<String>> post(String path, String body) {
    return client.sendAsync(HttpRequest.newBuilder(uri(path))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Ends the pending requests, then checks that a new request takes a place and ends. */
  private void releaseAndCheckThatThePlacesAreFree() throws Exception {
    release();
    awaitInFlight(0);
    CompletableFuture<HttpResponse<String>> next = post("/sign");
    awaitPending(1);
    assertThat(admission.inFlight()).isEqualTo(1);
    release();
    assertThat(next.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(201);
  }

  /** Ends the oldest pending request with 201. */
  private void releaseFirst() {
    RoutingContext context = pending.remove(0);
    context.vertx().runOnContext(ignored -> context.response().setStatusCode(201).end());
  }

  private void awaitWaiting(int count) throws InterruptedException {
    for (int i = 0; i < 1000 && admission.waiting() != count; i++) {
      Thread.sleep(10);
    }
    assertThat(admission.waiting()).isEqualTo(count);
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.actualPort() + path);
  }

  /** Ends every pending request with 201. */
  private void release() {
    // Taken out of the list before they end, because each end may admit a waiting request,
    // which then joins the list.
    List<RoutingContext> ending = List.copyOf(pending);
    pending.removeAll(ending);
    for (RoutingContext context : ending) {
      context.vertx().runOnContext(ignored -> context.response().setStatusCode(201).end());
    }
  }

  private void awaitPending(int count) throws InterruptedException {
    for (int i = 0; i < 1000 && pending.size() < count; i++) {
      Thread.sleep(10);
    }
    assertThat(pending).hasSize(count);
  }

  private void awaitInFlight(int count) throws InterruptedException {
    for (int i = 0; i < 1000 && admission.inFlight() != count; i++) {
      Thread.sleep(10);
    }
    assertThat(admission.inFlight()).isEqualTo(count);
  }

  @Test
  void workerPoolFitsEveryAdmittedRequest() {
    int admitted = SignAdmission.forAvailableProcessors().maxInFlight();

    assertThat(CaHttpServer.workerPoolSize(64)).isEqualTo(80);
    assertThat(CaHttpServer.workerPoolSize(admitted))
        .isEqualTo(Math.min(CaHttpServer.MAX_WORKERS, admitted + 16));
  }

  @Test
  void workerPoolIsCappedOnLargeMachines() {
    assertThat(CaHttpServer.workerPoolSize(4096)).isEqualTo(CaHttpServer.MAX_WORKERS);
  }
}
