package io.iidca.ca.azure;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.UnavailableException;
import io.iidca.ca.gcp.LimitedBodySubscriber;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Microsoft Entra tenant's token-signing keys, read from its OpenID configuration (OpenID
 * Connect Discovery 1.0) and the JWKS (RFC 7517) that the configuration's {@code jwks_uri}
 * names, and cached.
 *
 * <p>Caching: both documents are kept for the {@code max-age} of their {@code Cache-Control}
 * header, clamped to between {@value #MIN_MAX_AGE_SECONDS} s and 24 h, and for 1 h without one.
 * A key id that the cached set lacks triggers one refetch, at most once per {@code
 * minRefetchInterval}, because a new key can be published before the cache expires. A failed
 * fetch is reported as {@link UnavailableException} (503), and the network is not tried again
 * for {@code retryAfterFailure}. Meanwhile keys that expired from the cache stay in use, so an
 * outage of the login host does not stop enrollment. The cache never gives up for good: the
 * next request after the retry delay fetches again.
 *
 * <p>Every fetch has a connect timeout and a deadline of {@value #TIMEOUT_SECONDS} s over the
 * whole exchange, body included, follows no redirect and reads at most {@value
 * #MAX_DOCUMENT_BYTES} bytes. The {@code jwks_uri} must be
 * https, except that an http OpenID configuration on loopback (a metadata emulator) may name an
 * http JWKS on loopback. Keys are RSA. A key with an {@code x5c} chain is used through its first
 * certificate's public key, and is found by {@code kid} or by the certificate's SHA-1 thumbprint
 * ({@code x5t}).
 *
 * <p>Thread-safe: the methods are synchronized, so concurrent requests share one fetch.
 */
public final class TenantKeys implements AzureKeySource {

  public static final int TIMEOUT_SECONDS = 5;
  public static final int MAX_DOCUMENT_BYTES = 1024 * 1024;
  public static final long MIN_MAX_AGE_SECONDS = 60;
  public static final Duration DEFAULT_MAX_AGE = Duration.ofHours(1);
  public static final Duration MAX_MAX_AGE = Duration.ofHours(24);
  public static final Duration DEFAULT_MIN_REFETCH_INTERVAL = Duration.ofMinutes(5);
  public static final Duration DEFAULT_RETRY_AFTER_FAILURE = Duration.ofSeconds(10);

  private static final String STAGE = "verify-azure";
  private static final Pattern MAX_AGE = Pattern.compile("(?:^|[,\\s])max-age=\"?(\\d+)");
  private static final Logger LOG = LoggerFactory.getLogger(TenantKeys.class);

  private final URI openIdConfigUrl;
  private final String tenantId;
  private final HttpClient http;
  private final Clock clock;
  private final Duration minRefetchInterval;
  private final Duration retryAfterFailure;

  private Snapshot snapshot;
  private Instant lastFetch;
  private Instant lastFailure;
  private String lastFailureReason;
  private int fetches;

  /** The keys and issuer of one fetch. */
  private record Snapshot(String issuer, Map<String, PublicKey> byKeyId,
      Map<String, PublicKey> byThumbprint, Instant expiresAt) {}

  public TenantKeys(URI openIdConfigUrl, String tenantId, HttpClient http, Clock clock,
      Duration minRefetchInterval, Duration retryAfterFailure) {
    this.openIdConfigUrl = openIdConfigUrl;
    this.tenantId = tenantId.toLowerCase(Locale.ROOT);
    this.http = http;
    this.clock = clock;
    this.minRefetchInterval = minRefetchInterval;
    this.retryAfterFailure = retryAfterFailure;
  }

  /** Returns keys for a URL and tenant with the default intervals and an HTTP client. */
  public static TenantKeys create(URI openIdConfigUrl, String tenantId, Clock clock) {
    return new TenantKeys(openIdConfigUrl, tenantId, defaultClient(), clock,
        DEFAULT_MIN_REFETCH_INTERVAL, DEFAULT_RETRY_AFTER_FAILURE);
  }

  /** Returns an HTTP client with the connect timeout and without redirects. */
  public static HttpClient defaultClient() {
    return HttpClient.newBuilder()
        .connectTimeout(Duration.ofSeconds(TIMEOUT_SECONDS))
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
  }

  /**
   * Returns the issuer of the OpenID configuration with {@code {tenantid}} replaced by the
   * tenant id, fetching the configuration when the cache has none or it expired.
   *
   * @throws UnavailableException if it cannot be fetched and none is cached
   */
  @Override
  public synchronized String issuer() {
    return current().issuer();
  }

  /**
   * Returns the key that {@code keyId}, or else {@code thumbprint}, names.
   *
   * @throws IdentityRejectedException if neither names a key, even after a refetch
   * @throws UnavailableException if the keys cannot be fetched
   */
  @Override
  public synchronized PublicKey key(String keyId, String thumbprint) {
    Optional<PublicKey> key = find(current(), keyId, thumbprint);
    if (key.isPresent()) {
      return key.get();
    }
    Instant now = clock.instant();
    if (lastFetch != null && now.isBefore(lastFetch.plus(minRefetchInterval))) {
      throw new IdentityRejectedException(STAGE, "token " + describe(keyId, thumbprint)
          + " is not in the tenant's key set, fetched at " + lastFetch
          + "; the next refetch is allowed at " + lastFetch.plus(minRefetchInterval));
    }
    LOG.info("verify-azure: {} unknown, refetching the keys of tenant {}",
        describe(keyId, thumbprint), tenantId);
    key = find(refresh(now), keyId, thumbprint);
    return key.orElseThrow(() -> new IdentityRejectedException(STAGE, "token "
        + describe(keyId, thumbprint) + " is not in the key set of tenant " + tenantId
        + " from " + openIdConfigUrl));
  }

  private static String describe(String keyId, String thumbprint) {
    return thumbprint == null ? "key id " + keyId : "key id " + keyId + " (x5t " + thumbprint + ")";
  }

  /**
   * Returns keys read from a JWKS or from PEM certificates, with a fixed issuer, for offline
   * checks. A certificate's key is found by its SHA-1 thumbprint, which Entra also uses as the
   * key id.
   *
   * @throws IllegalArgumentException if the text contains no usable RSA key
   */
  public static AzureKeySource fixed(String jwksOrPem, String issuer) {
    Map<String, PublicKey> byKeyId = new HashMap<>();
    Map<String, PublicKey> byThumbprint = new HashMap<>();
    try {
      if (jwksOrPem.strip().startsWith("-----BEGIN")) {
        for (X509Certificate certificate : io.iidca.ca.pki.Pem.parseCertificates(
            jwksOrPem.getBytes(StandardCharsets.US_ASCII))) {
          String thumbprint = thumbprint(certificate);
          byKeyId.put(thumbprint, certificate.getPublicKey());
          byThumbprint.put(thumbprint, certificate.getPublicKey());
        }
      } else {
        for (JWK jwk : JWKSet.parse(jwksOrPem).getKeys()) {
          addKey(jwk, byKeyId, byThumbprint);
        }
      }
    } catch (java.text.ParseException | GeneralSecurityException e) {
      throw new IllegalArgumentException("not a JWKS or PEM certificate: " + e.getMessage(), e);
    }
    if (byKeyId.isEmpty() && byThumbprint.isEmpty()) {
      throw new IllegalArgumentException("no RSA signing key found");
    }
    Snapshot snapshot = new Snapshot(issuer, Map.copyOf(byKeyId), Map.copyOf(byThumbprint),
        Instant.MAX);
    return new AzureKeySource() {
      @Override
      public String issuer() {
        return issuer;
      }

      @Override
      public PublicKey key(String keyId, String thumbprint) {
        return find(snapshot, keyId, thumbprint).orElseThrow(() ->
            new IdentityRejectedException(STAGE, "token " + describe(keyId, thumbprint)
                + " is not among the given keys"));
      }
    };
  }

  /** Returns how many times the documents were fetched, successfully or not, for tests. */
  public synchronized int fetchCount() {
    return fetches;
  }

  private static Optional<PublicKey> find(Snapshot snapshot, String keyId, String thumbprint) {
    if (keyId != null && snapshot.byKeyId().containsKey(keyId)) {
      return Optional.of(snapshot.byKeyId().get(keyId));
    }
    if (thumbprint != null) {
      return Optional.ofNullable(snapshot.byThumbprint().get(thumbprint));
    }
    return Optional.empty();
  }

  private Snapshot current() {
    Instant now = clock.instant();
    if (snapshot != null && now.isBefore(snapshot.expiresAt())) {
      return snapshot;
    }
    return refresh(now);
  }

  /**
   * Fetches both documents. While fetching fails, the cached snapshot is returned if there is
   * one, else the failure is thrown.
   */
  private Snapshot refresh(Instant now) {
    if (lastFailure != null && now.isBefore(lastFailure.plus(retryAfterFailure))) {
      if (snapshot != null) {
        return snapshot;
      }
      throw new UnavailableException(STAGE, "the keys of tenant " + tenantId + " are"
          + " unavailable: " + lastFailureReason + "; the next attempt is at "
          + lastFailure.plus(retryAfterFailure), null,
          Duration.between(now, lastFailure.plus(retryAfterFailure)));
    }
    try {
      snapshot = fetch(now);
      lastFailure = null;
      return snapshot;
    } catch (UnavailableException e) {
      lastFailure = now;
      lastFailureReason = e.reason();
      if (snapshot != null) {
        LOG.warn("verify-azure: {}; keeping the keys fetched at {}", e.reason(), lastFetch);
        return snapshot;
      }
      LOG.warn("verify-azure: {}", e.reason());
      throw e;
    }
  }

  private Snapshot fetch(Instant now) {
    fetches++;
    lastFetch = now;
    Document config = get(openIdConfigUrl);
    Map<String, Object> json = parseObject(config, openIdConfigUrl);
    Object issuer = json.get("issuer");
    Object jwksUri = json.get("jwks_uri");
    if (!(issuer instanceof String) || !(jwksUri instanceof String)) {
      throw unavailable("the OpenID configuration at " + openIdConfigUrl + " lacks a string"
          + " issuer or jwks_uri");
    }
    URI keysUrl = checkJwksUri((String) jwksUri);
    Document keys = get(keysUrl);
    JWKSet set;
    try {
      set = JWKSet.parse(new String(keys.body(), StandardCharsets.UTF_8));
    } catch (java.text.ParseException e) {
      throw unavailable("the JWKS at " + keysUrl + " is invalid: " + e.getMessage());
    }
    Map<String, PublicKey> byKeyId = new HashMap<>();
    Map<String, PublicKey> byThumbprint = new HashMap<>();
    for (JWK jwk : set.getKeys()) {
      addKey(jwk, byKeyId, byThumbprint);
    }
    Duration maxAge = config.maxAge().compareTo(keys.maxAge()) < 0 ? config.maxAge()
        : keys.maxAge();
    LOG.info("verify-azure: fetched {} keys of tenant {} from {}, cached for {} s",
        byKeyId.size(), tenantId, keysUrl, maxAge.toSeconds());
    return new Snapshot(((String) issuer).replace("{tenantid}", tenantId),
        Map.copyOf(byKeyId), Map.copyOf(byThumbprint), now.plus(maxAge));
  }

  private static void addKey(JWK jwk, Map<String, PublicKey> byKeyId,
      Map<String, PublicKey> byThumbprint) {
    if (!(jwk instanceof RSAKey rsa) || jwk.getKeyUse() != null
        && !"sig".equals(jwk.getKeyUse().identifier())) {
      return;
    }
    try {
      PublicKey key;
      List<X509Certificate> chain = rsa.getParsedX509CertChain();
      if (chain != null && !chain.isEmpty()) {
        key = chain.get(0).getPublicKey();
        byThumbprint.put(thumbprint(chain.get(0)), key);
      } else {
        key = rsa.toRSAPublicKey();
      }
      if (rsa.getKeyID() != null) {
        byKeyId.put(rsa.getKeyID(), key);
      }
    } catch (com.nimbusds.jose.JOSEException | GeneralSecurityException e) {
      LOG.warn("verify-azure: skipping key {}: {}", jwk.getKeyID(), e.getMessage());
    }
  }

  /** Returns the base64url SHA-1 thumbprint of a certificate, which {@code x5t} carries. */
  static String thumbprint(X509Certificate certificate) throws GeneralSecurityException {
    byte[] digest = MessageDigest.getInstance("SHA-1").digest(certificate.getEncoded());
    return Base64URL.encode(digest).toString();
  }

  private URI checkJwksUri(String text) {
    URI uri;
    try {
      uri = new URI(text);
    } catch (java.net.URISyntaxException e) {
      throw unavailable("jwks_uri '" + text + "' is not a URL");
    }
    boolean https = "https".equalsIgnoreCase(uri.getScheme()) && uri.getHost() != null;
    boolean loopbackHttp = "http".equalsIgnoreCase(uri.getScheme())
        && "http".equalsIgnoreCase(openIdConfigUrl.getScheme())
        && isLoopback(uri.getHost()) && isLoopback(openIdConfigUrl.getHost());
    if (!https && !loopbackHttp) {
      throw unavailable("jwks_uri '" + text + "' must be https (http only on loopback for an"
          + " emulator)");
    }
    return uri;
  }

  private static boolean isLoopback(String host) {
    if (host == null) {
      return false;
    }
    String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    return bare.equalsIgnoreCase("localhost") || bare.matches("127(\\.\\d{1,3}){3}")
        || bare.equals("::1");
  }

  private record Document(byte[] body, Duration maxAge) {}

  /**
   * Fetches a document with one deadline over the whole exchange, response body included. The
   * HTTP client's request timeout ends when the headers arrive, so without the deadline a
   * server could send the body a byte at a time while this object's lock is held.
   */
  private Document get(URI uri) {
    HttpRequest request = HttpRequest.newBuilder(uri)
        .timeout(Duration.ofSeconds(TIMEOUT_SECONDS))
        .header("Accept", "application/json")
        .GET()
        .build();
    CompletableFuture<HttpResponse<byte[]>> exchange =
        http.sendAsync(request, info -> new LimitedBodySubscriber(MAX_DOCUMENT_BYTES));
    HttpResponse<byte[]> response;
    try {
      response = exchange.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      exchange.cancel(true);
      throw unavailable("fetching " + uri + " timed out after " + TIMEOUT_SECONDS + " s");
    } catch (InterruptedException e) {
      exchange.cancel(true);
      Thread.currentThread().interrupt();
      throw unavailable("fetching " + uri + " was interrupted");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof LimitedBodySubscriber.TooLargeException) {
        throw unavailable(uri + " returned more than " + MAX_DOCUMENT_BYTES + " bytes");
      }
      throw unavailable("fetching " + uri + " failed: " + e.getCause());
    }
    if (response.statusCode() != 200) {
      throw unavailable("fetching " + uri + " returned HTTP " + response.statusCode()
          + ", expected 200");
    }
    return new Document(response.body(),
        maxAge(response.headers().firstValue("Cache-Control")));
  }

  /** Returns the clamped {@code max-age} of a Cache-Control value, or the default. */
  static Duration maxAge(Optional<String> cacheControl) {
    if (cacheControl.isEmpty()) {
      return DEFAULT_MAX_AGE;
    }
    String value = cacheControl.get().toLowerCase(Locale.ROOT);
    if (value.contains("no-store") || value.contains("no-cache")) {
      return Duration.ofSeconds(MIN_MAX_AGE_SECONDS);
    }
    Matcher matcher = MAX_AGE.matcher(value);
    if (!matcher.find()) {
      return DEFAULT_MAX_AGE;
    }
    String digits = matcher.group(1);
    long seconds = digits.length() > 9 ? Long.MAX_VALUE : Long.parseLong(digits);
    seconds = Math.max(MIN_MAX_AGE_SECONDS, Math.min(seconds, MAX_MAX_AGE.toSeconds()));
    return Duration.ofSeconds(seconds);
  }

  private Map<String, Object> parseObject(Document document, URI uri) {
    try {
      return com.nimbusds.jose.util.JSONObjectUtils.parse(
          new String(document.body(), StandardCharsets.UTF_8));
    } catch (java.text.ParseException e) {
      throw unavailable("the OpenID configuration at " + uri + " is not a JSON object");
    }
  }

  private UnavailableException unavailable(String reason) {
    return new UnavailableException(STAGE, reason, null, retryAfterFailure);
  }
}
