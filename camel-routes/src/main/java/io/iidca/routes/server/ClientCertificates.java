package io.iidca.routes.server;

import java.net.Socket;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509ExtendedTrustManager;
import org.apache.camel.Exchange;
import org.apache.camel.component.platform.http.vertx.HttpMessage;

/**
 * Client certificates for mutual TLS. The server requests one from every client but requires
 * none, and accepts whatever a client presents during the handshake: the handshake still proves
 * that the client holds the certificate's private key, and the routes that use the certificate
 * (renew, revoke) check it against the store, where they can answer with a clear status instead
 * of a TLS alert. Clients are told to send certificates issued by the intermediate.
 */
final class ClientCertificates extends X509ExtendedTrustManager {

  /** Name of the session value that contains a {@link Peer}. */
  static final String PEER = "io.iidca.peer-certificate";

  private final X509Certificate[] acceptedIssuers;

  ClientCertificates(X509Certificate intermediate) {
    this.acceptedIssuers = new X509Certificate[] {intermediate};
  }

  /** Returns the client's certificate on this exchange's connection, or null if none. */
  static X509Certificate of(Exchange exchange) {
    if (!(exchange.getMessage() instanceof HttpMessage message)) {
      return null;
    }
    SSLSession session = message.getRequest().sslSession();
    return session == null ? null : of(session);
  }

  /**
   * Returns the client's certificate in a TLS session, or null if none, and stores the result
   * in the session. The JDK reports a missing certificate with an exception, and filling its
   * stack trace on every request took about 1% of the server's CPU samples (perf, 64
   * connections). A session's peer certificates are set by its handshake, and a resumed
   * session carries the same ones.
   */
  static X509Certificate of(SSLSession session) {
    if (session.getValue(PEER) instanceof Peer known) {
      return known.certificate();
    }
    X509Certificate leaf;
    try {
      var chain = session.getPeerCertificates();
      leaf = chain.length > 0 && chain[0] instanceof X509Certificate first ? first : null;
    } catch (SSLPeerUnverifiedException noCertificate) {
      leaf = null;
    }
    session.putValue(PEER, new Peer(leaf));
    return leaf;
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) {
    // Checked by the route that uses the certificate; see the class comment.
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
    // Checked by the route that uses the certificate; see the class comment.
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
    // Checked by the route that uses the certificate; see the class comment.
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) {
    throw new UnsupportedOperationException("server side only");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
    throw new UnsupportedOperationException("server side only");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
    throw new UnsupportedOperationException("server side only");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return acceptedIssuers.clone();
  }

  /** The client's certificate as a session value, null when the client sent none. */
  private record Peer(X509Certificate certificate) {}
}
