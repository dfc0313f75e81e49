package io.iidca.routes.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * HTTP for the cloud metadata services, which {@link MetadataEndpoints} allows only over plain
 * {@code http://}.
 *
 * <p>{@link #exchange} sends one request through the JDK's {@code HttpURLConnection}, as
 * {@link CaClient} does, because the JDK's {@code java.net.http.HttpClient} costs a cold JVM
 * tens of milliseconds more (bench/RESULTS.md). Its timeout bounds each wait for the response,
 * not the whole response. {@link #newClient} builds a {@code java.net.http.HttpClient} for the
 * GCP and Azure clients, which keep it because their deadline covers the whole response body
 * ({@code CompletableFuture.get} with a timeout). Each of those gets its own TLS context that
 * trusts no certificate. Without one, the JDK's {@code HttpClient} builds
 * the default context, which parses the system's trust store (144 certificates with OpenJDK 17
 * on Debian 12), which took about 0.1 s in a cold JVM without class-data sharing, for a context
 * that plain HTTP never uses.
 */
final class MetadataHttp {

  private MetadataHttp() {}

  /** The status and body of a response. */
  record Response(int status, byte[] body) {}

  /**
   * Sends one request without proxy or redirects and reads the whole response. A non-null
   * body is buffered and sent with its length, an empty one as {@code Content-Length: 0}.
   * Buffered, not streamed, because in streaming mode {@code HttpURLConnection} drops the
   * body of a 401 and throws instead of returning the status.
   *
   * @param timeout bounds the connection and each wait for the response
   * @param maxBodyBytes the maximum body size read, in bytes
   * @throws java.net.SocketTimeoutException when the connection or the response took longer
   * @throws java.net.ConnectException when nothing listens at the endpoint
   * @throws IOException when the body is longer than {@code maxBodyBytes}, or on other errors
   */
  static Response exchange(String method, URI uri, Map<String, String> headers, byte[] body,
      Duration timeout, int maxBodyBytes) throws IOException {
    if (!"http".equalsIgnoreCase(uri.getScheme())) {
      throw new IOException("the metadata service must be reached over plain HTTP, not " + uri);
    }
    HttpURLConnection connection = (HttpURLConnection) uri.toURL().openConnection(Proxy.NO_PROXY);
    connection.setInstanceFollowRedirects(false);
    connection.setUseCaches(false);
    int millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
    connection.setConnectTimeout(millis);
    connection.setReadTimeout(millis);
    connection.setRequestMethod(method);
    connection.setRequestProperty("Accept", "*/*");
    headers.forEach(connection::setRequestProperty);
    if (body != null) {
      connection.setDoOutput(true);
      try (OutputStream out = connection.getOutputStream()) {
        out.write(body);
      }
    }
    int status = connection.getResponseCode();
    InputStream in = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
    byte[] read = new byte[0];
    if (in != null) {
      try (in) {
        read = in.readNBytes(maxBodyBytes + 1);
      }
    }
    if (read.length > maxBodyBytes) {
      throw new IOException(method + " " + uri.getPath() + " returned more than " + maxBodyBytes
          + " bytes");
    }
    return new Response(status, read);
  }

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
