package io.iidca.routes.server;

import io.iidca.ca.config.ListenAddress;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.impl.DefaultCamelContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running CA: the Camel context with the API and pipeline routes, served over HTTPS by the
 * platform-http Vert.x server. Start with {@link #start}, stop with {@link #close}.
 */
public final class CaServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(CaServer.class);

  private final CaRuntime runtime;
  private final CamelContext camel;
  private final CaHttpServer http;
  private final ScheduledExecutorService housekeeping;

  private CaServer(CaRuntime runtime, CamelContext camel, CaHttpServer http,
      ScheduledExecutorService housekeeping) {
    this.runtime = runtime;
    this.camel = camel;
    this.http = http;
    this.housekeeping = housekeeping;
  }

  /**
   * Starts the CA on the address.
   *
   * @throws Exception if the routes cannot start or the port cannot be bound
   */
  public static CaServer start(CaRuntime runtime, ListenAddress address) throws Exception {
    CamelContext camel = new DefaultCamelContext();
    camel.getCamelContextExtension().setName("iidca-ca");
    camel.setStreamCaching(false);

    CaHttpServer http = new CaHttpServer(address, ServerTls.create(runtime.issuer(),
        runtime.config().dnsNames(), runtime.clock().instant()),
        new ClientCertificates(runtime.issuer().certificate()));
    camel.addService(http);

    camel.addRoutes(new ErrorRoutes(runtime));
    camel.addRoutes(new ApiRoutes(runtime));
    camel.addRoutes(new DecodeRoute(runtime));
    camel.addRoutes(new IdentifyRoute(runtime));
    camel.addRoutes(new VerifyAwsRoute(runtime));
    camel.addRoutes(new VerifyGcpRoute(runtime));
    camel.addRoutes(new VerifyAzureRoute(runtime));
    camel.addRoutes(new AzureNonceRoutes(runtime));
    camel.addRoutes(new PolicyRoute(runtime));
    camel.addRoutes(new SignRoute(runtime));
    camel.addRoutes(new RecordRoute(runtime));
    camel.addRoutes(new RespondRoute(runtime));
    camel.addRoutes(new RenewRoute(runtime));
    camel.addRoutes(new LifecycleRoutes(runtime));
    camel.addRoutes(new StatusRoutes(runtime));
    try {
      camel.start();
    } catch (RuntimeException e) {
      camel.stop();
      throw startFailure(address, e);
    }

    ScheduledExecutorService housekeeping = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread thread = new Thread(r, "iidca-housekeeping");
      thread.setDaemon(true);
      return thread;
    });
    housekeeping.scheduleWithFixedDelay(() -> purgeTokens(runtime), 1, 10, TimeUnit.MINUTES);
    housekeeping.scheduleWithFixedDelay(() -> rotateTls(runtime, http),
        ServerTls.ROTATION.toMinutes(), ServerTls.ROTATION.toMinutes(), TimeUnit.MINUTES);
    CaServer server = new CaServer(runtime, camel, http, housekeeping);
    LOG.info("iidca CA {} serving https://{} (root fingerprint {})", runtime.config().name(),
        new ListenAddress(address.host(), server.port()), runtime.rootFingerprint());
    return server;
  }

  /** Names the address when another process uses it, the usual reason a start fails. */
  private static Exception startFailure(ListenAddress address, RuntimeException e) {
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof java.net.BindException) {
        return new java.io.IOException("cannot listen on " + address + ": " + cause.getMessage()
            + "; stop the process that holds it, or pass another --address", e);
      }
    }
    return e;
  }

  /** Replaces the TLS certificate before it expires; a failure is retried at the next turn. */
  static void rotateTls(CaRuntime runtime, CaHttpServer http) {
    try {
      http.rotate(ServerTls.create(runtime.issuer(), runtime.config().dnsNames(),
          runtime.clock().instant()));
      LOG.info("TLS certificate replaced, serial {}", http.tls().certificate()
          .getSerialNumber().toString(16));
    } catch (Exception e) {
      LOG.error("cannot replace the TLS certificate (the current one expires {}): {}",
          http.tls().certificate().getNotAfter().toInstant(), e.toString());
    }
  }

  private static void purgeTokens(CaRuntime runtime) {
    try {
      int purged = runtime.store().purgeExpiredTokens(
          runtime.clock().instant().minus(Duration.ofMinutes(5)));
      LOG.debug("purged {} expired token ids", purged);
    } catch (RuntimeException e) {
      LOG.warn("cannot purge expired token ids: {}", e.getMessage());
    }
  }

  /** Returns the bound port, which differs from the configured one when that was 0. */
  public int port() {
    return http.port();
  }

  public CamelContext camel() {
    return camel;
  }

  /** Replaces the TLS certificate now, as the daily rotation does. */
  public void rotateTls() {
    rotateTls(runtime, http);
  }

  /** The certificate new TLS connections get. */
  public java.security.cert.X509Certificate tlsCertificate() {
    return http.tls().certificate();
  }

  public CaRuntime runtime() {
    return runtime;
  }

  @Override
  public void close() {
    housekeeping.shutdownNow();
    camel.stop();
    runtime.close();
    LOG.info("iidca CA stopped");
  }
}
