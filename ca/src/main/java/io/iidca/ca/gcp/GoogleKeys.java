package io.iidca.ca.gcp;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import io.iidca.ca.config.Durations;
import io.iidca.ca.error.UnavailableException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Google's token signing keys, fetched as a JSON Web Key Set (RFC 7517) from a URL and cached by
 * the response's HTTP caching headers (RFC 9111: {@code Cache-Control: max-age}, {@code Age},
 * {@code Expires}), or held fixed for offline checks.
 *
 * <p>A fetching instance works as follows:
 *
 * <ul>
 *   <li>The first {@link #find} fetches. Keys stay fresh for the response's max-age, bounded to
 *       {@link Settings#minCacheAge} .. {@link Settings#maxCacheAge}, or for
 *       {@link Settings#defaultCacheAge} when the response has no caching header.
 *   <li>An unknown {@code kid} or stale keys trigger a fetch, but fetch attempts, successful or
 *       not, start at least {@link Settings#minFetchInterval} apart. A token with a made-up
 *       {@code kid} therefore cannot make the CA hammer Google.
 *   <li>A failed fetch (connection error, timeout, status other than 200, a body over
 *       {@link Settings#maxBodyBytes} or without a usable key) throws
 *       {@link UnavailableException}, unless cached keys younger than
 *       {@link Settings#maxKeyAge} exist: those are served and the failure is logged. A later
 *       request retries, so a failure never disables the provisioner.
 * </ul>
 *
 * <p>Only RSA keys with a {@code kid}, {@code use} {@code sig} or absent, {@code alg}
 * {@code RS256} or absent, and a modulus of at least 2048 bits are kept; others are ignored.
 * URLs must be {@code https://}, or {@code http://} on a loopback host for a metadata emulator.
 * Redirects are not followed.
 *
 * <p>Thread-safe. Lookups of a fresh, known key take no lock; at most one thread fetches at a
 * time and the others wait for its result.
 */
public final class GoogleKeys implements GoogleKeySource {

  static final String STAGE = "verify-gcp";
  private static final Logger LOG = LoggerFactory.getLogger(GoogleKeys.class);

  private final URI url;
  private final String origin;
  private final Settings settings;
  private final Clock clock;
  private final HttpClient http;
  private final ReentrantLock fetchLock = new ReentrantLock();
  private volatile Snapshot snapshot;
  // Guarded by fetchLock.
  private Instant lastAttempt;
  private String lastFailure;

  /**
   * Timeouts, size limit and cache bounds of a fetching key set.
   *
   * @param connectTimeout time to open the TCP and TLS connection
   * @param requestTimeout time for the whole exchange, response body included
   * @param maxBodyBytes maximum size of the key set in bytes; Google's has about 2 KB
   * @param minCacheAge minimum time keys stay fresh, whatever the response headers state
   * @param maxCacheAge maximum time keys stay fresh, whatever the response headers state
   * @param defaultCacheAge freshness when the response has no caching header
   * @param minFetchInterval minimum time between two fetch attempts
   * @param maxKeyAge age after which cached keys are no longer served while fetches fail
   */
  public record Settings(
      Duration connectTimeout,
      Duration requestTimeout,
      int maxBodyBytes,
      Duration minCacheAge,
      Duration maxCacheAge,
      Duration defaultCacheAge,
      Duration minFetchInterval,
      Duration maxKeyAge) {

    /** 3 s to connect, 5 s per exchange, 64 KiB, fresh 1 min to 24 h, 10 s between fetches. */
    public static final Settings DEFAULT = new Settings(Duration.ofSeconds(3),
        Duration.ofSeconds(5), 64 * 1024, Duration.ofMinutes(1), Duration.ofHours(24),
        Duration.ofMinutes(5), Duration.ofSeconds(10), Duration.ofHours(48));

    /**
     * Checks the bounds.
     *
     * @throws IllegalArgumentException when a duration is not positive or the bounds are out
     *     of order
     */
    public Settings {
      for (Duration duration : new Duration[] {connectTimeout, requestTimeout, minCacheAge,
          maxCacheAge, defaultCacheAge, minFetchInterval, maxKeyAge}) {
        if (duration.isNegative() || duration.isZero()) {
          throw new IllegalArgumentException("durations must be positive: " + duration);
        }
      }
      if (maxBodyBytes <= 0) {
        throw new IllegalArgumentException("maxBodyBytes must be positive: " + maxBodyBytes);
      }
      if (minCacheAge.compareTo(maxCacheAge) > 0 || maxCacheAge.compareTo(maxKeyAge) > 0
          || minFetchInterval.compareTo(minCacheAge) > 0) {
        throw new IllegalArgumentException("expected minFetchInterval <= minCacheAge <="
            + " maxCacheAge <= maxKeyAge, got " + minFetchInterval + ", " + minCacheAge + ", "
            + maxCacheAge + ", " + maxKeyAge);
      }
    }

    /** Returns a copy with another minimum interval between fetch attempts. */
    public Settings withMinFetchInterval(Duration interval) {
      return new Settings(connectTimeout, requestTimeout, maxBodyBytes, minCacheAge,
          maxCacheAge, defaultCacheAge, interval, maxKeyAge);
    }

    /** Returns a copy with other connect and request timeouts. */
    public Settings withTimeouts(Duration connect, Duration request) {
      return new Settings(connect, request, maxBodyBytes, minCacheAge, maxCacheAge,
          defaultCacheAge, minFetchInterval, maxKeyAge);
    }
  }

  /** Keys of one successful fetch. */
  private record Snapshot(Map<String, RSAKey> keys, Instant fetchedAt, Instant freshUntil) {}

  private GoogleKeys(URI url, String origin, Settings settings, Clock clock, Snapshot fixed) {
    this.url = url;
    this.origin = origin;
    this.settings = settings;
    this.clock = clock;
    this.snapshot = fixed;
    this.http = url == null ? null : HttpClient.newBuilder()
        .connectTimeout(settings.connectTimeout())
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
  }

  /**
   * Creates a key set fetched from a URL on first use.
   *
   * @throws IllegalArgumentException when the URL is neither https:// nor http:// on loopback
   */
  public static GoogleKeys fetching(URI url, Settings settings, Clock clock) {
    checkUrl(url);
    return new GoogleKeys(url, url.toString(), Objects.requireNonNull(settings),
        Objects.requireNonNull(clock), null);
  }

  /** Creates a key set fetched from a URL with the default settings and the system clock. */
  public static GoogleKeys fetching(URI url) {
    return fetching(url, Settings.DEFAULT, Clock.systemUTC());
  }

  /**
   * Creates a key set that never changes, for offline checks.
   *
   * @param origin where the keys came from, such as a file name, for messages
   * @throws IllegalArgumentException when the set has no usable key
   */
  public static GoogleKeys fixed(JWKSet keys, String origin) {
    Map<String, RSAKey> usable = usableKeys(keys);
    if (usable.isEmpty()) {
      throw new IllegalArgumentException(origin + " has no RSA signing key with a kid (use sig"
          + " or none, alg RS256 or none, at least 2048 bits)");
    }
    return new GoogleKeys(null, origin, Settings.DEFAULT, Clock.systemUTC(),
        new Snapshot(usable, Instant.EPOCH, Instant.MAX));
  }

  @Override
  public String origin() {
    return origin;
  }

  @Override
  public RSAKey find(String kid) {
    Snapshot current = snapshot;
    if (url == null) {
      return current.keys().get(kid);
    }
    if (current != null && isFresh(current, clock.instant()) && current.keys().containsKey(kid)) {
      return current.keys().get(kid);
    }
    fetchLock.lock();
    try {
      return findOrFetch(kid);
    } finally {
      fetchLock.unlock();
    }
  }

  private RSAKey findOrFetch(String kid) {
    Snapshot current = snapshot;
    Instant now = clock.instant();
    boolean fresh = current != null && isFresh(current, now);
    if (fresh && current.keys().containsKey(kid)) {
      // Another thread fetched while this one waited for the lock.
      return current.keys().get(kid);
    }
    if (mayFetch(now)) {
      current = fetchOrKeep(current, now);
    } else if (current == null || !isUsable(current, now)) {
      Instant nextAttempt = lastAttempt.plus(settings.minFetchInterval());
      throw new UnavailableException(STAGE, "Google's signing keys from " + origin
          + " are unavailable: the fetch at " + lastAttempt + " failed (" + lastFailure
          + "), and the next attempt is allowed at " + nextAttempt, null,
          Duration.between(now, nextAttempt));
    }
    return current.keys().get(kid);
  }

  /** Fetches the keys. On failure, returns the cached keys while young enough, else throws. */
  private Snapshot fetchOrKeep(Snapshot current, Instant now) {
    lastAttempt = now;
    try {
      Snapshot fetched = fetch(now);
      snapshot = fetched;
      lastFailure = null;
      return fetched;
    } catch (UnavailableException e) {
      lastFailure = e.reason();
      if (current == null || !isUsable(current, now)) {
        LOG.warn("{}: no usable cached keys", e.getMessage());
        throw e;
      }
      LOG.warn("{}; serving the {} keys fetched at {} until {}", e.getMessage(),
          current.keys().size(), current.fetchedAt(),
          current.fetchedAt().plus(settings.maxKeyAge()));
      return current;
    }
  }

  private boolean mayFetch(Instant now) {
    return lastAttempt == null || !now.isBefore(lastAttempt.plus(settings.minFetchInterval()));
  }

  private static boolean isFresh(Snapshot snapshot, Instant now) {
    return now.isBefore(snapshot.freshUntil());
  }

  private boolean isUsable(Snapshot snapshot, Instant now) {
    return now.isBefore(snapshot.fetchedAt().plus(settings.maxKeyAge()));
  }

  private Snapshot fetch(Instant now) {
    HttpResponse<byte[]> response = send();
    if (response.statusCode() != 200) {
      throw unavailable("GET " + url + " returned HTTP " + response.statusCode()
          + ", expected 200");
    }
    JWKSet set;
    try {
      set = JWKSet.parse(new String(response.body(), StandardCharsets.UTF_8));
    } catch (ParseException e) {
      throw unavailable("GET " + url + " returned no valid JSON Web Key Set: "
          + e.getMessage());
    }
    Map<String, RSAKey> keys = usableKeys(set);
    if (keys.isEmpty()) {
      throw unavailable("GET " + url + " returned " + set.size() + " keys but no RSA"
          + " signing key with a kid (use sig or none, alg RS256 or none, 2048 bits or more)");
    }
    Duration freshFor = cacheAge(response.headers(), now);
    LOG.info("{}: fetched {} signing keys {} from {}, fresh for {}", STAGE, keys.size(),
        keys.keySet(), url, Durations.format(freshFor));
    return new Snapshot(Map.copyOf(keys), now, now.plus(freshFor));
  }

  /** Runs the exchange with a deadline that also covers the response body. */
  private HttpResponse<byte[]> send() {
    HttpRequest request = HttpRequest.newBuilder(url)
        .timeout(settings.requestTimeout())
        .header("Accept", "application/json")
        .GET()
        .build();
    CompletableFuture<HttpResponse<byte[]>> exchange =
        http.sendAsync(request, info -> new LimitedBodySubscriber(settings.maxBodyBytes()));
    try {
      return exchange.get(settings.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      exchange.cancel(true);
      throw timedOut();
    } catch (InterruptedException e) {
      exchange.cancel(true);
      Thread.currentThread().interrupt();
      throw unavailable("interrupted while fetching " + url);
    } catch (ExecutionException e) {
      throw failed(e.getCause());
    }
  }

  private UnavailableException failed(Throwable cause) {
    if (cause instanceof HttpTimeoutException) {
      return timedOut();
    }
    if (cause instanceof LimitedBodySubscriber.TooLargeException) {
      return unavailable("GET " + url + " returned more than " + settings.maxBodyBytes()
          + " bytes, more than any JSON Web Key Set of signing keys needs");
    }
    String detail = cause instanceof IOException && cause.getMessage() != null
        ? cause.getMessage() : String.valueOf(cause);
    return new UnavailableException(STAGE, "cannot fetch Google's signing keys from " + url
        + ": " + detail, cause, settings.minFetchInterval());
  }

  private UnavailableException timedOut() {
    return unavailable("GET " + url + " timed out after "
        + Durations.format(settings.requestTimeout()) + " (connect timeout "
        + Durations.format(settings.connectTimeout()) + ")");
  }

  private UnavailableException unavailable(String reason) {
    return new UnavailableException(STAGE, reason, null, settings.minFetchInterval());
  }

  /**
   * Returns how long a response stays fresh: {@code max-age} minus {@code Age}, else
   * {@code Expires} minus {@code Date} (or now), bounded by the settings. {@code no-store} and
   * {@code no-cache} count as zero, so the lower bound applies.
   */
  Duration cacheAge(HttpHeaders headers, Instant now) {
    Duration age = CacheHeaders.freshness(headers, now);
    if (age == null) {
      age = settings.defaultCacheAge();
    }
    if (age.compareTo(settings.minCacheAge()) < 0) {
      return settings.minCacheAge();
    }
    return age.compareTo(settings.maxCacheAge()) > 0 ? settings.maxCacheAge() : age;
  }

  private static Map<String, RSAKey> usableKeys(JWKSet set) {
    Map<String, RSAKey> keys = new LinkedHashMap<>();
    for (JWK jwk : set.getKeys()) {
      if (jwk instanceof RSAKey rsa && isSigningKey(rsa)) {
        keys.putIfAbsent(rsa.getKeyID(), rsa.toPublicJWK());
      }
    }
    return keys;
  }

  private static boolean isSigningKey(RSAKey key) {
    return key.getKeyID() != null
        && (key.getKeyUse() == null || KeyUse.SIGNATURE.equals(key.getKeyUse()))
        && (key.getAlgorithm() == null || JWSAlgorithm.RS256.equals(key.getAlgorithm()))
        && key.size() >= 2048;
  }

  private static void checkUrl(URI url) {
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    String host = url.getHost() == null ? "" : url.getHost();
    boolean loopback = host.equalsIgnoreCase("localhost") || host.matches("127(\\.\\d{1,3}){3}")
        || host.equals("[::1]") || host.equals("[0:0:0:0:0:0:0:1]");
    if (host.isEmpty() || !(scheme.equals("https") || scheme.equals("http") && loopback)) {
      throw new IllegalArgumentException("key set URL " + url + " must be https:// with a host"
          + " (http:// only on a loopback host, for a metadata emulator)");
    }
  }
}
