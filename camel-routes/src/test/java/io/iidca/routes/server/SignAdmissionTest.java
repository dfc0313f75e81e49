package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link SignAdmission} in front of a plain HTTP Vert.x router on 127.0.0.1, with a signing
 * route that keeps its requests open until the test ends them.
 */
class SignAdmissionTest {

  private final SignAdmission admission = new SignAdmission(2);
  private final List<RoutingContext> pending = new CopyOnWriteArrayList<>();
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private Vertx vertx;
  private HttpServer server;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    Router router = Router.router(vertx);
    admission.install(router);
    for (String path : SignAdmission.PATHS) {
      router.post(path).handler(pending::add);
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
    release();
    awaitInFlight(0);

    CompletableFuture<HttpResponse<String>> next = post("/sign");
    awaitPending(1);

    assertThat(admission.inFlight()).isEqualTo(1);
    release();
    assertThat(next.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(201);
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
  void limitBelowOneIsRejected() {
    org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
        .isThrownBy(() -> new SignAdmission(0))
        .withMessage("maxInFlight must be at least 1, got 0");
  }

  private CompletableFuture<HttpResponse<String>> post(String path) {
    return client.sendAsync(HttpRequest.newBuilder(uri(path))
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.actualPort() + path);
  }

  /** Ends every pending request with 201, on its event loop. */
  private void release() {
    for (RoutingContext context : pending) {
      context.vertx().runOnContext(ignored -> context.response().setStatusCode(201).end());
    }
    pending.clear();
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
