package io.iidca.routes.server;

import io.iidca.ca.config.ListenAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServerConfiguration;
import org.apache.camel.impl.DefaultCamelContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running CA: the Camel context with the API and pipeline routes, served over HTTPS by the
 * platform-http Vert.x server. Start with {@link #start}, stop with {@link #close}.
 */
public final class CaServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(CaServer.class);
  /** Vert.x's own limit; the decode stage applies a tighter one with a JSON error. */
  private static final long MAX_HTTP_BODY_BYTES = 1024 * 1024;

  private final CaRuntime runtime;
  private final CamelContext camel;
  private final VertxPlatformHttpServer http;
  private final ScheduledExecutorService housekeeping;

  private CaServer(CaRuntime runtime, CamelContext camel, VertxPlatformHttpServer http,
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

    VertxPlatformHttpServerConfiguration configuration =
        new VertxPlatformHttpServerConfiguration();
    configuration.setBindHost(address.host());
    configuration.setBindPort(address.port());
    configuration.setMaxBodySize(MAX_HTTP_BODY_BYTES);
    configuration.setSslContextParameters(ServerTls.create(runtime.issuer(),
        runtime.config().dnsNames(), Instant.now(runtime.clock())));
    VertxPlatformHttpServer http = new VertxPlatformHttpServer(configuration);
    camel.addService(http);

    camel.addRoutes(new ErrorRoutes(runtime));
    camel.addRoutes(new ApiRoutes(runtime));
    camel.addRoutes(new DecodeRoute(runtime));
    camel.addRoutes(new IdentifyRoute(runtime));
    camel.addRoutes(new VerifyAwsRoute(runtime));
    camel.addRoutes(new PolicyRoute(runtime));
    camel.addRoutes(new SignRoute(runtime));
    camel.addRoutes(new RecordRoute(runtime));
    camel.addRoutes(new RespondRoute(runtime));
    camel.start();

    ScheduledExecutorService housekeeping = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread thread = new Thread(r, "iidca-housekeeping");
      thread.setDaemon(true);
      return thread;
    });
    housekeeping.scheduleWithFixedDelay(() -> purgeTokens(runtime), 1, 10, TimeUnit.MINUTES);
    CaServer server = new CaServer(runtime, camel, http, housekeeping);
    LOG.info("iidca CA {} serving https://{} (root fingerprint {})", runtime.config().name(),
        new ListenAddress(address.host(), server.port()), runtime.rootFingerprint());
    return server;
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

  /** The bound port, which differs from the configured one when that was 0. */
  public int port() {
    return http.getServer().actualPort();
  }

  public CamelContext camel() {
    return camel;
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
