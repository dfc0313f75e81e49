package io.iidca.routes.server;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.DelegatingSslContext;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.internal.tcnative.SSL;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SSLEngineOptions;
import io.vertx.core.spi.tls.SslContextFactory;
import java.util.List;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS engine of the CA's HTTPS server: BoringSSL through netty-tcnative where its native
 * library loads, else the JDK's own TLS.
 *
 * <p>In two A/B pairs of boot storms (bench/RESULTS.md), BoringSSL took 11 to 12% less time
 * to the last certificate of a first storm and used 17% less server CPU per enrollment, most
 * of it on the event loops, which run the handshakes, and in the JIT, which had less Java
 * handshake code to compile. Keep-alive load did not change beyond the noise. BoringSSL offers
 * no Ed25519 in its certificate request, so a client with an Ed25519 certificate sends none;
 * it authenticates with a possession token instead ({@link PeerCertificates}).
 * {@code -Dio.netty.handler.ssl.noOpenSsl=true}, netty's own switch, chooses the JDK's engine.
 *
 * <p>Neither engine sends TLS 1.3 session tickets, which iidca's clients never use: the CLI
 * turns them off in the JDK's engine, and {@link NoTicketContext} in each BoringSSL connection.
 */
final class TlsEngines {

  private static final Logger LOG = LoggerFactory.getLogger(TlsEngines.class);

  private TlsEngines() {}

  /** Returns BoringSSL's engine when it is available, else the JDK's, and logs which. */
  static SSLEngineOptions server() {
    if (OpenSsl.isAvailable()) {
      LOG.info("TLS engine: {} through netty-tcnative", OpenSsl.versionString());
      return new BoringSslOptions();
    }
    Throwable cause = OpenSsl.unavailabilityCause();
    LOG.info("TLS engine: the JDK's ({})", cause == null ? "OpenSSL not available"
        : cause.getMessage());
    return jdk();
  }

  /**
   * Returns the JDK's TLS engine with pooled heap buffers, which Vert.x's documentation of
   * {@code JdkSSLEngineOptions.setPooledHeapBuffers} recommends over its default of unpooled
   * ones. In five A/B pairs (bench/RESULTS.md) a boot storm on a CA that had seen one before
   * took 4 to 14% less time, with 1 to 18% less server CPU per enrollment.
   */
  static JdkSSLEngineOptions jdk() {
    return new JdkSSLEngineOptions().setPooledHeapBuffers(true);
  }

  /** BoringSSL's engine options, whose contexts send no session tickets. */
  static final class BoringSslOptions extends OpenSSLEngineOptions {

    BoringSslOptions() {}

    private BoringSslOptions(BoringSslOptions other) {
      super(other);
    }

    /** Returns a copy of the same class, because Vert.x copies the options it is given. */
    @Override
    public OpenSSLEngineOptions copy() {
      return new BoringSslOptions(this);
    }

    @Override
    public SslContextFactory sslContextFactory() {
      return new NoTicketFactory(super.sslContextFactory());
    }
  }

  /**
   * Forwards every setting to Vert.x's own factory and wraps the context it creates.
   *
   * <p>NOTE: forwards the setters of Vert.x 4.5's {@code SslContextFactory}. A setter that a
   * later version adds would keep the interface's default, which ignores the value.
   */
  private record NoTicketFactory(SslContextFactory factory) implements SslContextFactory {

    @Override
    public SslContextFactory useAlpn(boolean useAlpn) {
      factory.useAlpn(useAlpn);
      return this;
    }

    @Override
    public SslContextFactory clientAuth(ClientAuth clientAuth) {
      factory.clientAuth(clientAuth);
      return this;
    }

    @Override
    public SslContextFactory forClient(boolean forClient) {
      factory.forClient(forClient);
      return this;
    }

    @Override
    public SslContextFactory keyMananagerFactory(KeyManagerFactory keyManagerFactory) {
      factory.keyMananagerFactory(keyManagerFactory);
      return this;
    }

    @Override
    public SslContextFactory trustManagerFactory(TrustManagerFactory trustManagerFactory) {
      factory.trustManagerFactory(trustManagerFactory);
      return this;
    }

    @Override
    public SslContextFactory enabledCipherSuites(Set<String> cipherSuites) {
      factory.enabledCipherSuites(cipherSuites);
      return this;
    }

    @Override
    public SslContextFactory applicationProtocols(List<String> protocols) {
      factory.applicationProtocols(protocols);
      return this;
    }

    @Override
    public SslContextFactory serverName(String serverName) {
      factory.serverName(serverName);
      return this;
    }

    @Override
    public SslContext create() throws SSLException {
      return new NoTicketContext(factory.create());
    }
  }

  /**
   * Sets {@code SSL_OP_NO_TICKET} on each BoringSSL connection before its handshake. BoringSSL
   * reads the option from the connection when it would send its TLS 1.3 tickets (ssl/
   * tls13_server.cc, {@code add_new_session_tickets}), and netty's option on the context did
   * not reach the connections: without this, each full handshake ended with two tickets.
   */
  static final class NoTicketContext extends DelegatingSslContext {

    NoTicketContext(SslContext context) {
      super(context);
    }

    @Override
    protected void initEngine(SSLEngine engine) {
      if (engine instanceof ReferenceCountedOpenSslEngine openSsl) {
        SSL.setOptions(openSsl.sslPointer(), SSL.SSL_OP_NO_TICKET);
      }
    }
  }
}
