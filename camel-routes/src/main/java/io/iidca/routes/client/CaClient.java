package io.iidca.routes.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iidca.ca.pki.CaAudience;
import io.iidca.ca.pki.PossessionToken;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;

/**
 * Talks to the CA over HTTPS that trusts exactly one root: the bootstrapped one, never the
 * system's trust store. The host name is verified against the CA's certificate as usual. It
 * may present a client certificate for mutual TLS, and then also signs each POST with the
 * certificate's key in a possession token ({@link PossessionToken}), which the CA reads when
 * the connection carries no certificate: behind a TLS terminator, or with a TLS engine that
 * does not accept the certificate's key type. Connections are kept alive between requests.
 * Thread-safe.
 *
 * <p>A {@code 429 Too Many Requests} response is retried after its {@code Retry-After}, as RFC
 * 6585, section 4, and RFC 9110, section 10.2.3, describe. The CA sends 429 only from its
 * admission control, before it reads the request's body, so the same request can be sent
 * again. Each wait is the delay the CA requested (at least 1 s, at most
 * {@link #MAX_RETRY_AFTER}) plus up to half of it at random, so that the instances of a boot
 * storm that were turned away together do not all come back in the same instant. After
 * {@link #MAX_THROTTLED_WAIT} of waits in all, the last 429 is returned to the caller. Other
 * statuses, 503 among them, are returned at once: the CA may have processed that request.
 *
 * <p>NOTE: a proxy that returns 429 after it forwarded the request would make the client send
 * the same token twice, and the CA would then reject the second one as already used.
 */
public final class CaClient {

  /** The maximum total wait of one request for a CA that returns 429. */
  static final Duration MAX_THROTTLED_WAIT = Duration.ofSeconds(60);
  /** The maximum single wait, whatever {@code Retry-After} requests. */
  static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(30);
  /** The wait when {@code Retry-After} is absent, unreadable or already past. */
  static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(1);

  private static final ObjectMapper JSON = new ObjectMapper();
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
  private final HttpClient http;
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
    this.http = HttpClient.newBuilder()
        .sslContext(context)
        .connectTimeout(timeout)
        .followRedirects(HttpClient.Redirect.NEVER)
        .proxy(HttpClient.Builder.NO_PROXY)
        .build();
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
    return send(HttpRequest.newBuilder(resolve(path)).GET());
  }

  /** Sends a GET with an {@code Authorization: Bearer} header. */
  public Response get(String path, String bearerToken)
      throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(resolve(path))
        .header("Authorization", "Bearer " + bearerToken).GET());
  }

  /** Sends a JSON POST with an {@code Authorization: Bearer} header. */
  public Response post(String path, Object json, String bearerToken)
      throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(resolve(path))
        .header("Content-Type", "application/json")
        .header("Authorization", "Bearer " + bearerToken)
        .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(json))));
  }

  /**
   * Sends a JSON POST; a client with a certificate adds a possession token for it as
   * {@code Authorization: Bearer}.
   */
  public Response post(String path, Object json) throws IOException, InterruptedException {
    byte[] body = JSON.writeValueAsBytes(json);
    HttpRequest.Builder builder = HttpRequest.newBuilder(resolve(path))
        .header("Content-Type", "application/json");
    if (key != null) {
      try {
        builder.header("Authorization", "Bearer " + PossessionToken.issue(key, certificate,
            resolve(path).toString(), body, Instant.now()));
      } catch (GeneralSecurityException e) {
        throw new IOException("cannot sign a possession token with the key of certificate "
            + certificate.getSerialNumber().toString(16) + ": " + e.getMessage(), e);
      }
    }
    return send(builder.POST(HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  private URI resolve(String path) {
    return URI.create(CaAudience.of(caUrl.toString(), path));
  }

  private Response send(HttpRequest.Builder builder) throws IOException, InterruptedException {
    HttpRequest request = builder.timeout(requestTimeout).build();
    Duration waited = Duration.ZERO;
    HttpResponse<byte[]> response = exchange(request);
    while (response.statusCode() == 429) {
      Duration wait = throttledWait(response.headers().firstValue("Retry-After"),
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
      body = JSON.readTree(response.body());
    } catch (IOException notJson) {
      // Proxies and load balancers return HTML error pages, so only the status is known.
    }
    return new Response(response.statusCode(), body);
  }

  private HttpResponse<byte[]> exchange(HttpRequest request)
      throws IOException, InterruptedException {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofByteArray());
    } catch (SSLHandshakeException e) {
      throw new IOException("TLS handshake with " + caUrl + " failed: the CA's certificate does"
          + " not chain to the bootstrapped root, or does not name the host (" + e.getMessage()
          + ")", e);
    } catch (java.net.ConnectException e) {
      throw new IOException("cannot connect to the CA at " + caUrl + ": is iidca serve"
          + " running there?", e);
    } catch (java.net.http.HttpConnectTimeoutException e) {
      // The JDK counts the TLS handshake in the connect timeout.
      throw new IOException("the CA at " + caUrl + " accepted no TLS connection within "
          + connectTimeout.toSeconds() + " s: is it overloaded, or is another service"
          + " listening on that port?", e);
    } catch (java.net.http.HttpTimeoutException e) {
      throw new IOException("the CA at " + caUrl + " did not respond to " + request.method()
          + " " + request.uri().getPath() + " within " + requestTimeout.toSeconds()
          + " s; check the CA's log, then try again", e);
    }
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
