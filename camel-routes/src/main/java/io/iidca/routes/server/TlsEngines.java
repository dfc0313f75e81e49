package io.iidca.routes.server;

import io.netty.handler.ssl.OpenSsl;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SSLEngineOptions;
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
 * <p>NOTE: BoringSSL sends two TLS 1.3 session tickets after each full handshake, which the
 * JDK's engine does not (the CLI turns them off there), and iidca's clients never use them.
 * netty sets {@code SSL_OP_NO_TICKET} on the context, and BoringSSL still sent them;
 * netty-tcnative 2.0.84's {@code setNumTickets} returned false. The storm figures above
 * include the tickets.
 */
final class TlsEngines {

  private static final Logger LOG = LoggerFactory.getLogger(TlsEngines.class);

  private TlsEngines() {}

  /** Returns BoringSSL's engine when it is available, else the JDK's, and logs which. */
  static SSLEngineOptions server() {
    if (OpenSsl.isAvailable()) {
      LOG.info("TLS engine: {} through netty-tcnative", OpenSsl.versionString());
      return new OpenSSLEngineOptions();
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
}
