package io.iidca.routes.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * HTTP for the cloud metadata services, which {@link MetadataEndpoints} allows only over plain
 * {@code http://}.
 *
 * <p>Requests go through the JDK's {@code HttpURLConnection}, as in {@link CaClient}, because
 * the JDK's {@code java.net.http.HttpClient} costs a cold JVM tens of milliseconds more
 * (bench/RESULTS.md). {@link #exchangeWithin} bounds the whole response, body included, so a
 * server that sends a byte now and then cannot hold the client past its deadline.
 */
final class MetadataHttp {

  private MetadataHttp() {}

  /** The status, headers and body of a response. */
  record Response(int status, byte[] body, Map<String, List<String>> headers) {

    /** Returns the first value of a header, whose name is matched without case, or null. */
    String header(String name) {
      for (Map.Entry<String, List<String>> header : headers.entrySet()) {
        if (name.equalsIgnoreCase(header.getKey()) && !header.getValue().isEmpty()) {
          return header.getValue().get(0);
        }
      }
      return null;
    }
  }

  /** A response body longer than the caller allows. */
  static final class TooLargeException extends IOException {
    private static final long serialVersionUID = 1L;

    TooLargeException(String message) {
      super(message);
    }
  }

  /**
   * Sends one request without proxy or redirects on a daemon thread of its own, and waits at
   * most {@code deadline} for the whole response, body included. At the deadline, or when the
   * caller is interrupted, the connection is closed, which ends the thread's read, and a
   * request not yet sent is not sent. A non-null body is buffered and sent with its length,
   * an empty one as {@code Content-Length: 0}. Buffered, not streamed, because in streaming
   * mode {@code HttpURLConnection} drops the body of a 401 and throws instead of returning the
   * status.
   *
   * @param maxBodyBytes the maximum body size read, in bytes
   * @throws SocketTimeoutException when the deadline passed, or a wait within it timed out
   * @throws java.net.ConnectException when nothing listens at the endpoint
   * @throws TooLargeException when the body is longer than {@code maxBodyBytes}
   * @throws IOException on other errors
   */
  static Response exchangeWithin(String method, URI uri, Map<String, String> headers,
      byte[] body, Duration deadline, int maxBodyBytes) throws IOException,
      InterruptedException {
    HttpURLConnection connection = open(method, uri, headers, body != null, deadline);
    AtomicBoolean abandoned = new AtomicBoolean();
    FutureTask<Response> task = RequestThread.start("iidca-metadata-request",
        () -> perform(connection, body, maxBodyBytes, abandoned));
    try {
      return task.get(deadline.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      RequestThread.abandon(connection, abandoned);
      throw new SocketTimeoutException(method + " " + uri + " timed out after "
          + deadline.toMillis() + " ms");
    } catch (InterruptedException e) {
      RequestThread.abandon(connection, abandoned);
      throw e;
    } catch (ExecutionException e) {
      throw RequestThread.failure(e);
    }
  }

  /** Makes a connection for the request, without connecting it yet. */
  private static HttpURLConnection open(String method, URI uri, Map<String, String> headers,
      boolean withBody, Duration timeout) throws IOException {
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
    connection.setDoOutput(withBody);
    return connection;
  }

  /**
   * Connects, sends the body if any, and reads the response. With {@code abandoned} set after
   * the connect, nothing is sent: a buffered body goes out with the response's request.
   */
  private static Response perform(HttpURLConnection connection, byte[] body, int maxBodyBytes,
      AtomicBoolean abandoned) throws IOException {
    connection.connect();
    if (body != null) {
      try (OutputStream out = connection.getOutputStream()) {
        out.write(body);
      }
    }
    String request = connection.getRequestMethod() + " " + connection.getURL().getPath();
    if (abandoned.get()) {
      connection.disconnect();
      throw new IOException(request + " was abandoned before it was sent");
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
      connection.disconnect();
      throw new TooLargeException(request + " returned more than " + maxBodyBytes + " bytes");
    }
    return new Response(status, read, connection.getHeaderFields());
  }
}
