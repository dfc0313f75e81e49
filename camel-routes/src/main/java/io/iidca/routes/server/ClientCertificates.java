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
    if (session == null) {
      return null;
    }
    try {
      var chain = session.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate leaf ? leaf : null;
    } catch (SSLPeerUnverifiedException noCertificate) {
      return null;
    }
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
}
