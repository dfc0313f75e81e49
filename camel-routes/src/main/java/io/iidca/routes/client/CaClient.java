package io.iidca.routes.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iidca.ca.pki.CaAudience;
import io.iidca.ca.pki.PossessionToken;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.DoubleSupplier;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * Talks to the CA over HTTPS that trusts exactly one root: the bootstrapped one, never the
 * system's trust store. The host name is verified against the CA's certificate as usual. It
 * may present a client certificate for mutual TLS, and then also signs each POST with the
 * certificate's key in a possession token ({@link PossessionToken}), which the CA reads when
 * the connection carries no certificate: behind a TLS terminator, or with a TLS engine that
 * does not accept the certificate's key type. Thread-safe.
 *
 * <p>Requests go through the JDK's {@code HttpURLConnection}, which keeps a connection alive
 * for the next request to the same CA. The JDK's {@code java.net.http.HttpClient} made a cold
 * {@code iidca certificate} slower: one TLS {@code GET} from a new JVM took 55 to 80 ms longer
 * with it (bench/RESULTS.md). No proxy is used and no redirect is followed. A POST body is
 * buffered, not streamed, because in streaming mode {@code HttpURLConnection} drops the body of
 * a 401 and with it the CA's message and request id. The JDK then sends a POST once more on a
 * new connection when the connection fails before the response ({@code
 * sun.net.http.retryPost}, true by default). If the CA had processed it after all, it returns
 * the certificate it recorded for a resent sign request, and a 401 for the single-use token of
 * any other request, rather than a second certificate.
 * The connect timeout bounds the TCP connection; the TLS handshake and each wait for the
 * response are bounded by the request timeout, because {@code HttpURLConnection} reads the
 * handshake with the read timeout that it sets on each new connection.
 *
 * <p>A {@code 429 Too Many Requests} response is retried after its {@code Retry-After}, as RFC
 * 6585, section 4, and RFC 9110, section 10.2.3, describe. The CA sends 429 only from its
 * admission control, before it reads the request's body, so the same request can be sent
 * again. Each wait is the delay the CA requested (at least 1 s, at most
 * {@link #MAX_RETRY_AFTER}) plus up to half of it at random, so that the instances of a boot
 * storm that were turned away together do not all come back in the same instant. After
 * {@link #MAX_THROTTLED_WAIT} of waits in all, the last 429 is returned to the caller. Other
 * statuses, 503 among them, are returned at once, and so is a {@link ResponseLostException}:
 * the CA may have processed that request, and only the caller knows whether sending it again
 * is safe.
 *
 * <p>NOTE: a proxy that returns 429 after it forwarded the request makes the client send it
 * again. The CA returns the certificate that it recorded for a repeated sign request, but
 * rejects a repeated renew, rekey or revoke, whose possession token is then used up.
 */
public final class CaClient {

  /** The maximum total wait of one request for a CA that returns 429. */
  static final Duration MAX_THROTTLED_WAIT = Duration.ofSeconds(60);
  /** The maximum single wait, whatever {@code Retry-After} requests. */
  static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(30);
  /** The wait when {@code Retry-After} is absent, unreadable or already past. */
  static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(1);

  /**
   * Holds the JSON mapper for request bodies that are objects, made on first use rather than
   * with this class, because {@code iidca certificate} never needs it ({@link StreamingJson}).
   */
  private static final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();
  }

  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

  /** Waits between attempts; a test replaces it to record the waits instead. */
  interface Sleeper {
    void sleep(Duration duration) throws InterruptedException;
  }

  private final URI caUrl;
  /** The private key and certificate of mutual TLS, or null. */
  private final PrivateKey key;
  private final X509Certificate certificate;
  private final Duration connectTimeout;
  private final Duration requestTimeout;
  /** The factory of the TLS connections to an {@code https} CA URL. */
  private final SSLSocketFactory sockets;
  private final Sleeper sleeper;
  /** A random number in [0, 1) for each wait's jitter. */
  private final DoubleSupplier jitter;

  public CaClient(URI caUrl, X509Certificate root, Duration timeout)
      throws GeneralSecurityException {
    this(caUrl, pinnedContext(root, null, null), timeout, (PrivateKey) null, null);
  }

  /**
   * A client that also presents a certificate for mutual TLS, as renew and revoke need.
   *
   * @param chain the client's certificate first, then the intermediate
   */
  public CaClient(URI caUrl, X509Certificate root, PrivateKey key, List<X509Certificate> chain,
      Duration timeout) throws GeneralSecurityException {
    this(caUrl, pinnedContext(root, key, chain), timeout, key, chain.get(0));
  }

  CaClient(URI caUrl, SSLContext context, Duration timeout, PrivateKey key,
      X509Certificate certificate) {
    this(caUrl, context, timeout, REQUEST_TIMEOUT, duration -> Thread.sleep(duration.toMillis()),
        () -> ThreadLocalRandom.current().nextDouble(), key, certificate);
  }

  CaClient(URI caUrl, SSLContext context, Duration timeout, Sleeper sleeper,
      DoubleSupplier jitter) {
    this(caUrl, context, timeout, REQUEST_TIMEOUT, sleeper, jitter);
  }

  CaClient(URI caUrl, SSLContext context, Duration timeout, Duration requestTimeout,
      Sleeper sleeper, DoubleSupplier jitter) {
    this(caUrl, context, timeout, requestTimeout, sleeper, jitter, null, null);
  }

  private CaClient(URI caUrl, SSLContext context, Duration timeout, Duration requestTimeout,
      Sleeper sleeper, DoubleSupplier jitter, PrivateKey key, X509Certificate certificate) {
    this.caUrl = caUrl;
    this.key = key;
    this.certificate = certificate;
    this.connectTimeout = timeout;
    this.requestTimeout = requestTimeout;
    this.sleeper = sleeper;
    this.jitter = jitter;
    this.sockets = context.getSocketFactory();
  }

  /** Returns an SSL context whose only trust anchor is {@code root}. */
  public static SSLContext pinnedContext(X509Certificate root) throws GeneralSecurityException {
    return pinnedContext(root, null, null);
  }

  private static SSLContext pinnedContext(X509Certificate root, PrivateKey key,
      List<X509Certificate> chain) throws GeneralSecurityException {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("iidca-root", root);
      TrustManagerFactory trustFactory = TrustManagerFactory.getInstance(
          TrustManagerFactory.getDefaultAlgorithm());
      trustFactory.init(trust);
      KeyManager[] keyManagers = key == null ? null
          : new KeyManager[] {new ClientKeyManager(key, chain)};
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keyManagers, trustFactory.getTrustManagers(), null);
      return context;
    } catch (IOException e) {
      throw new GeneralSecurityException("cannot build the trust store", e);
    }
  }

  /** A response: status and parsed JSON body (null when the body is not JSON). */
  public record Response(int status, JsonNode body) {

    /** The {@code message} of an error body, or a generic text. */
    public String message() {
      return body != null && body.hasNonNull("message") ? body.get("message").asText()
          : "HTTP " + status;
    }
  }

  public Response get(String path) throws IOException, InterruptedException {
    return send(new Request("GET", resolve(path), Map.of(), null));
  }

  /** Sends a GET with an {@code Authorization: Bearer} header. */
  public Response get(String path, String bearerToken)
      throws IOException, InterruptedException {
    return send(new Request("GET", resolve(path),
        Map.of("Authorization", "Bearer " + bearerToken), null));
  }

  /** Sends a JSON POST with an {@code Authorization: Bearer} header. */
  public Response post(String path, Object json, String bearerToken)
      throws IOException, InterruptedException {
    return send(new Request("POST", resolve(path), Map.of("Content-Type", "application/json",
        "Authorization", "Bearer " + bearerToken), Json.MAPPER.writeValueAsBytes(json)));
  }

  /**
   * Sends a JSON POST; a client with a certificate adds a possession token for it as
   * {@code Authorization: Bearer}.
   */
  public Response post(String path, Object json) throws IOException, InterruptedException {
    return post(path, Json.MAPPER.writeValueAsBytes(json));
  }

  /**
   * Sends a POST whose body is already JSON, such as {@link StreamingJson#write} returns. A
   * client with a certificate adds a possession token for it as {@code Authorization: Bearer}.
   */
  public Response post(String path, byte[] body) throws IOException, InterruptedException {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", "application/json");
    if (key != null) {
      try {
        headers.put("Authorization", "Bearer " + PossessionToken.issue(key, certificate,
            resolve(path).toString(), body, Instant.now()));
      } catch (GeneralSecurityException e) {
        throw new IOException("cannot sign a possession token with the key of certificate "
            + certificate.getSerialNumber().toString(16) + ": " + e.getMessage(), e);
      }
    }
    return send(new Request("POST", resolve(path), headers, body));
  }

  private URI resolve(String path) {
    return URI.create(CaAudience.of(caUrl.toString(), path));
  }

  /** One request; a null body sends none. */
  private record Request(String method, URI uri, Map<String, String> headers, byte[] body) {}

  /** The status, the {@code Retry-After} header or null, and the body of a response. */
  private record Exchange(int status, String retryAfter, byte[] body) {}

  private Response send(Request request) throws IOException, InterruptedException {
    Duration waited = Duration.ZERO;
    Exchange response = exchange(request);
    while (response.status() == 429) {
      Duration wait = throttledWait(Optional.ofNullable(response.retryAfter()),
          jitter.getAsDouble(), Instant.now());
      if (waited.plus(wait).compareTo(MAX_THROTTLED_WAIT) > 0) {
        break;
      }
      sleeper.sleep(wait);
      waited = waited.plus(wait);
      response = exchange(request);
    }
    JsonNode body = null;
    try {
      body = StreamingJson.read(response.body());
    } catch (IOException notJson) {
      // Proxies and load balancers return HTML error pages, so only the status is known.
    }
    return new Response(response.status(), body);
  }

  /**
   * Runs one request on a thread of its own and waits for it. An interrupt of the waiting
   * thread closes the connection, which ends the request at once: a blocked read of
   * {@code HttpURLConnection} ignores interrupts, and {@code RenewerDaemon} stops a renewal
   * that way.
   */
  private Exchange exchange(Request request) throws IOException, InterruptedException {
    if (Thread.interrupted()) {
      throw new InterruptedException("interrupted before " + request.method() + " "
          + request.uri().getPath());
    }
    HttpURLConnection connection = open(request);
    AtomicBoolean abandoned = new AtomicBoolean();
    FutureTask<Exchange> task = RequestThread.start("iidca-ca-request",
        () -> perform(connection, request, abandoned));
    try {
      return task.get();
    } catch (InterruptedException e) {
      RequestThread.abandon(connection, abandoned);
      throw e;
    } catch (ExecutionException e) {
      throw RequestThread.failure(e);
    }
  }

  /** Makes a connection for the request, without connecting it yet. */
  private HttpURLConnection open(Request request) throws IOException {
    HttpURLConnection connection =
        (HttpURLConnection) request.uri().toURL().openConnection(Proxy.NO_PROXY);
    if (connection instanceof HttpsURLConnection https) {
      https.setSSLSocketFactory(sockets);
    }
    connection.setInstanceFollowRedirects(false);
    connection.setUseCaches(false);
    connection.setConnectTimeout(millis(connectTimeout));
    connection.setReadTimeout(millis(requestTimeout));
    connection.setRequestMethod(request.method());
    // Without it, the JDK's default Accept header requests HTML and images first.
    connection.setRequestProperty("Accept", "application/json");
    request.headers().forEach(connection::setRequestProperty);
    if (request.body() != null) {
      connection.setDoOutput(true);
    }
    return connection;
  }

  /**
   * Sends the request and reads the response, with messages that name the CA. Sends nothing
   * once {@code abandoned} is set: an interrupt during the TCP connect finds no socket to
   * close, and the request must not reach the CA after its caller gave up.
   */
  private Exchange perform(HttpURLConnection connection, Request request,
      AtomicBoolean abandoned) throws IOException {
    boolean connected = false;
    try {
      connection.connect();
      connected = true;
      if (request.body() != null) {
        // Buffered: the request goes out with getResponseCode.
        try (OutputStream out = connection.getOutputStream()) {
          out.write(request.body());
        }
      }
      if (abandoned.get()) {
        connection.disconnect();
        throw new IOException("the request " + request.method() + " "
            + request.uri().getPath() + " was abandoned before it was sent");
      }
      int status = connection.getResponseCode();
      InputStream in = status >= 400 ? connection.getErrorStream()
          : connection.getInputStream();
      byte[] body = new byte[0];
      if (in != null) {
        // Read to the end, so that the connection can carry the next request. The body has no
        // cap, because TLS pins the CA and GET /admin/instances grows with the fleet.
        try (in) {
          body = in.readAllBytes();
        }
      }
      return new Exchange(status, connection.getHeaderField("Retry-After"), body);
    } catch (SSLHandshakeException e) {
      throw new IOException("TLS handshake with " + caUrl + " failed: the CA's certificate does"
          + " not chain to the bootstrapped root, or does not name the host (" + e.getMessage()
          + ")", e);
    } catch (UnknownHostException e) {
      String host = request.uri().getHost();
      throw new IOException("cannot resolve host " + host + " of the CA at " + caUrl
          + ": check the host in --ca-url or config/defaults.yaml, and that DNS or /etc/hosts"
          + " has an address for " + host, e);
    } catch (ConnectException e) {
      throw new IOException("cannot connect to the CA at " + caUrl + ": is iidca serve"
          + " running there?", e);
    } catch (SocketTimeoutException e) {
      if (!connected) {
        // The JDK's socket reports "Connect timed out" when TCP did not connect in time.
        if ("Connect timed out".equalsIgnoreCase(e.getMessage())) {
          throw new IOException("the CA at " + caUrl + " accepted no connection within "
              + connectTimeout.toSeconds() + " s: is the address right, and does a firewall"
              + " let the connection through?", e);
        }
        throw new IOException("the CA at " + caUrl + " accepted no TLS connection within "
            + requestTimeout.toSeconds() + " s: is it overloaded, or is another service"
            + " listening on that port?", e);
      }
      throw new ResponseLostException("the CA at " + caUrl + " did not respond to "
          + request.method() + " " + request.uri().getPath() + " within "
          + requestTimeout.toSeconds() + " s; check the CA's log, then try again", e);
    } catch (IOException e) {
      if (!connected || abandoned.get()) {
        throw e;
      }
      throw new ResponseLostException("the connection to the CA at " + caUrl + " failed"
          + " before the response to " + request.method() + " " + request.uri().getPath()
          + " arrived: " + e.getMessage(), e);
    }
  }

  /**
   * A request that was sent, or partly sent, over an established connection without a
   * response: the CA may have processed it.
   */
  public static final class ResponseLostException extends IOException {

    ResponseLostException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private static int millis(Duration duration) {
    return (int) Math.min(Integer.MAX_VALUE, duration.toMillis());
  }

  /**
   * Returns how long to wait before sending a request again that got 429: the delay that
   * {@code retryAfter} gives in seconds or as an HTTP date, between 1 s and
   * {@link #MAX_RETRY_AFTER}, plus {@code jitter} (in [0, 1)) times half of it.
   */
  static Duration throttledWait(Optional<String> retryAfter, double jitter, Instant now) {
    Duration requested = retryAfter.map(value -> parseRetryAfter(value.trim(), now))
        .orElse(DEFAULT_RETRY_AFTER);
    if (requested.compareTo(DEFAULT_RETRY_AFTER) < 0) {
      requested = DEFAULT_RETRY_AFTER;
    } else if (requested.compareTo(MAX_RETRY_AFTER) > 0) {
      requested = MAX_RETRY_AFTER;
    }
    return requested.plusMillis(Math.round(requested.toMillis() * 0.5 * jitter));
  }

  private static Duration parseRetryAfter(String value, Instant now) {
    if (!value.isEmpty() && value.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return value.length() > 9 ? MAX_RETRY_AFTER : Duration.ofSeconds(Long.parseLong(value));
    }
    try {
      Instant at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      return Duration.between(now, at);
    } catch (DateTimeParseException e) {
      return DEFAULT_RETRY_AFTER;
    }
  }

}
