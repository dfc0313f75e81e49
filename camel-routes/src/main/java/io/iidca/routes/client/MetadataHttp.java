package io.iidca.routes.client;

import java.net.http.HttpClient;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Builds the HTTP clients of the cloud metadata services, which {@link MetadataEndpoints}
 * allows only over plain {@code http://}. Each client gets its own TLS context that trusts no
 * certificate. Without one, the JDK's {@code HttpClient} builds the default context, which
 * parses the system's trust store (144 certificates with OpenJDK 17 on Debian 12), which took
 * about 0.1 s in a cold JVM without class-data sharing, for a context that plain HTTP never
 * uses.
 */
final class MetadataHttp {

  private MetadataHttp() {}

  /** Returns a client without redirects or proxy, with a connect timeout. */
  static HttpClient newClient(Duration connectTimeout) {
    return HttpClient.newBuilder()
        .sslContext(trustNothing())
        .connectTimeout(connectTimeout)
        .followRedirects(HttpClient.Redirect.NEVER)
        .proxy(HttpClient.Builder.NO_PROXY)
        .build();
  }

  private static SSLContext trustNothing() {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {new RejectingTrustManager()}, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot create the metadata client's TLS context", e);
    }
  }

  /** Rejects every certificate, because a metadata service is reached over plain HTTP only. */
  private static final class RejectingTrustManager implements X509TrustManager {

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("the metadata client trusts no TLS certificate");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("the metadata service must be reached over plain HTTP");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
