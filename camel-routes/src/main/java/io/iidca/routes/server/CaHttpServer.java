package io.iidca.routes.server;

import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.pki.PossessionToken;
import io.iidca.ca.pki.Providers;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.SSLOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.StaticService;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServerConfiguration;
import org.apache.camel.support.service.ServiceSupport;

/**
 * The HTTPS server under the platform-http routes: a Vert.x server that the CA configures
 * itself, because Camel's own Vert.x server cannot request client certificates. It registers
 * the router that platform-http consumers attach to, requests (never requires) a client
 * certificate for mutual TLS, rejects oversized bodies with a JSON 413, bounds the signing
 * requests in flight ({@link SignAdmission}), and can replace its TLS certificate without
 * dropping connections.
 */
final class CaHttpServer extends ServiceSupport implements CamelContextAware, StaticService {

  /** Worker threads beyond the signing limit, for the other routes (CRL, OCSP, health). */
  static final int OTHER_ROUTE_WORKERS = 16;
  /** Upper bound of the worker pool, for machines with many processors. */
  static final int MAX_WORKERS = 512;

  /** Vert.x's own limit; the decode stage applies a tighter one with a JSON error. */
  static final long MAX_BODY_BYTES = 1024 * 1024;
  /**
   * The maximum size of a request head, in bytes: the longest possession token and 16 KiB of
   * other fields. iidca's client sends a token with every renewal, and Vert.x's default of
   * 8 KiB rejected the token of a certificate with many names with 431.
   */
  static final int MAX_HEADER_BYTES = PossessionToken.MAX_TOKEN_CHARS + 16 * 1024;
  private static final long TIMEOUT_SECONDS = 30;

  private final ListenAddress address;
  private final ClientCertificates clientCertificates;
  private final SignAdmission admission = SignAdmission.forAvailableProcessors();
  private volatile ServerTls tls;
  private CamelContext camel;
  private Vertx vertx;
  private HttpServer server;

  CaHttpServer(ListenAddress address, ServerTls tls, ClientCertificates clientCertificates) {
    this.address = address;
    this.tls = tls;
    this.clientCertificates = clientCertificates;
  }

  @Override
  public CamelContext getCamelContext() {
    return camel;
  }

  @Override
  public void setCamelContext(CamelContext camelContext) {
    this.camel = camelContext;
  }

  @Override
  protected void doInit() {
    // ACCP as the first JCA provider serves the JDK's TLS engine where BoringSSL does not
    // load (TlsEngines), and the CA's own signatures in either case.
    Providers.preferNativeProvider();
    vertx = Vertx.vertx(new VertxOptions()
        .setWorkerPoolSize(workerPoolSize(admission.maxInFlight())));
    Router router = Router.router(vertx);
    // Requests that Vert.x rejects before any route runs get the same JSON body as the
    // routes' errors, in place of its HTML page or an empty body.
    router.errorHandler(404, context -> errorJson(context, 404, "not found: the CA has no"
        + " endpoint at this path; check the URL"));
    router.errorHandler(405, context -> errorJson(context, 405, "method "
        + context.request().method() + " is not allowed on this endpoint"));
    router.errorHandler(413, CaHttpServer::payloadTooLarge);
    admission.install(router);
    // platform-http consumers look the router up by the name for the component's default
    // port, which is not the port this server binds.
    String name = VertxPlatformHttpRouter.getRouterNameFromPort(
        VertxPlatformHttpServerConfiguration.DEFAULT_BIND_PORT);
    camel.getRegistry().bind(name, new VertxPlatformHttpRouter(null, vertx, router, name) {
      @Override
      public io.vertx.core.Handler<RoutingContext> bodyHandler() {
        return BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES);
      }
    });
    HttpServerOptions options = new HttpServerOptions()
        .setHost(address.host())
        .setPort(address.port())
        .setSsl(true)
        .setKeyCertOptions(keyCertOptions(tls))
        .setTrustOptions(TrustOptions.wrap(clientCertificates))
        .setClientAuth(ClientAuth.REQUEST)
        .setMaxHeaderSize(MAX_HEADER_BYTES)
        .setEnabledSecureTransportProtocols(Set.of("TLSv1.2", "TLSv1.3"))
        .setIdleTimeout(120)
        .setIdleTimeoutUnit(TimeUnit.SECONDS)
        .setSslEngineOptions(TlsEngines.server());
    server = vertx.createHttpServer(options).requestHandler(router);
  }

  @Override
  protected void doStart() throws Exception {
    server.listen().toCompletionStage().toCompletableFuture()
        .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  @Override
  protected void doStop() throws Exception {
    if (server != null) {
      server.close().toCompletionStage().toCompletableFuture()
          .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture()
          .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }
  }

  /**
   * Returns the size of the worker pool that runs the routes: one thread for each signing
   * request that admission lets in, and some for the other routes. With Vert.x's default of 20
   * threads, 64 admitted requests queued for a worker. With 72 threads, the rate at 64
   * connections rose by 16 to 22% and the CPU per certificate fell by 15 to 19% in two A/B
   * pairs (bench/RESULTS.md). Larger commit groups are the likely cause, not measured.
   *
   * <p>NOTE: the 16 extra threads and the cap of 512 are estimates, not measured optima.
   */
  static int workerPoolSize(int maxInFlight) {
    return Math.min(MAX_WORKERS, maxInFlight + OTHER_ROUTE_WORKERS);
  }

  /** Returns the bound port, which differs from the configured one when that was 0. */
  int port() {
    return server.actualPort();
  }

  ServerTls tls() {
    return tls;
  }

  /** Serves a new certificate to new connections; open connections keep the old one. */
  void rotate(ServerTls next) throws Exception {
    server.updateSSLOptions(new SSLOptions()
            .setKeyCertOptions(keyCertOptions(next))
            .setTrustOptions(TrustOptions.wrap(clientCertificates))
            .setEnabledSecureTransportProtocols(Set.of("TLSv1.2", "TLSv1.3")))
        .toCompletionStage().toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    tls = next;
  }

  private static PemKeyCertOptions keyCertOptions(ServerTls tls) {
    return new PemKeyCertOptions()
        .setKeyValue(Buffer.buffer(tls.keyPem()))
        .setCertValue(Buffer.buffer(tls.chainPem()));
  }

  private static void payloadTooLarge(RoutingContext context) {
    AuditLog.bodyTooLarge(context.request().path(), MAX_BODY_BYTES);
    errorJson(context, 413, "request body exceeds " + MAX_BODY_BYTES + " bytes");
  }

  /**
   * Ends the response with the error body that docs/protocol.md gives every error:
   * {@code {"status", "message", "requestId"}}, with the id also in {@code X-Request-Id}.
   */
  private static void errorJson(RoutingContext context, int status, String message) {
    String requestId = UUID.randomUUID().toString();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("status", status);
    body.put("message", message);
    body.put("requestId", requestId);
    context.response().setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .putHeader("X-Request-Id", requestId)
        .end(Json.write(body));
  }
}
