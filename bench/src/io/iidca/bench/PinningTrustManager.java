package io.iidca.bench;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The load generator's trust manager: it checks a server's certificate chain and host name
 * with the JDK's PKIX trust manager once, then accepts later handshakes with the same host that
 * present the same leaf certificate without checking the chain again.
 *
 * <p>A boot storm makes one full handshake per instance, and the load generator shares the
 * CPU with the server it measures. A chain check per handshake (path building, two signature
 * checks, the host name) measures the load generator, not the CA: the real instances run
 * their clients on their own CPUs. Every handshake still checks the server's signature with the
 * leaf's public key (CertificateVerify in TLS 1.3, RFC 8446, section 4.4.3), and a leaf that
 * differs in any byte gets the full check.
 *
 * <p>NOTE: a pin does not record whether its first check included the host name, so a later
 * connection skips that check too. Every connection of the load generator requests it.
 */
final class PinningTrustManager extends X509ExtendedTrustManager {

  /** A host and the leaf certificate that passed the full check for it. */
  private record Pin(String host, X509Certificate leaf) {}

  private final X509ExtendedTrustManager pkix;
  private final Set<Pin> checked = ConcurrentHashMap.newKeySet();

  PinningTrustManager(X509ExtendedTrustManager pkix) {
    this.pkix = pkix;
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    String host = socket instanceof SSLSocket ssl ? peerHost(ssl) : null;
    checkOnce(chain, host, () -> pkix.checkServerTrusted(chain, authType, socket));
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    String host = engine == null ? null : engine.getPeerHost();
    checkOnce(chain, host, () -> pkix.checkServerTrusted(chain, authType, engine));
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    // Without a connection there is no host to pin to.
    pkix.checkServerTrusted(chain, authType);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    pkix.checkClientTrusted(chain, authType, socket);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    pkix.checkClientTrusted(chain, authType, engine);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    pkix.checkClientTrusted(chain, authType);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return pkix.getAcceptedIssuers();
  }

  /**
   * Runs {@code fullCheck} unless this host and leaf passed it before, and remembers them when
   * it passes. Without a host or a leaf the full check runs every time.
   */
  private void checkOnce(X509Certificate[] chain, String host, FullCheck fullCheck)
      throws CertificateException {
    Pin pin = host == null || chain == null || chain.length == 0 ? null : new Pin(host, chain[0]);
    if (pin != null && checked.contains(pin)) {
      return;
    }
    fullCheck.run();
    if (pin != null) {
      checked.add(pin);
    }
  }

  /** A call of the PKIX trust manager. */
  @FunctionalInterface
  private interface FullCheck {
    void run() throws CertificateException;
  }

  private static String peerHost(SSLSocket socket) {
    var session = socket.getHandshakeSession();
    return session == null ? null : session.getPeerHost();
  }
}
