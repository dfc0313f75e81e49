package io.iidca.routes.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;

/**
 * Talks to the CA over HTTPS that trusts exactly one root: the bootstrapped one, never the
 * system's trust store. The host name is verified against the CA's certificate as usual. It
 * may present a client certificate for mutual TLS. Connections are kept alive between
 * requests. Thread-safe.
 */
public final class CaClient {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI caUrl;
  private final HttpClient http;

  public CaClient(URI caUrl, X509Certificate root, Duration timeout)
      throws GeneralSecurityException {
    this(caUrl, pinnedContext(root, null, null), timeout);
  }

  /**
   * A client that also presents a certificate for mutual TLS, as renew and revoke need.
   *
   * @param chain the client's certificate first, then the intermediate
   */
  public CaClient(URI caUrl, X509Certificate root, PrivateKey key, List<X509Certificate> chain,
      Duration timeout) throws GeneralSecurityException {
    this(caUrl, pinnedContext(root, key, chain), timeout);
  }

  private CaClient(URI caUrl, SSLContext context, Duration timeout) {
    this.caUrl = caUrl;
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

  public Response post(String path, Object json) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(resolve(path))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(json))));
  }

  private URI resolve(String path) {
    String base = caUrl.toString();
    return URI.create((base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + path);
  }

  private Response send(HttpRequest.Builder request) throws IOException, InterruptedException {
    HttpResponse<byte[]> response;
    try {
      response = http.send(request.timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofByteArray());
    } catch (SSLHandshakeException e) {
      throw new IOException("TLS handshake with " + caUrl + " failed: the CA's certificate does"
          + " not chain to the bootstrapped root, or does not name the host (" + e.getMessage()
          + ")", e);
    } catch (java.net.ConnectException e) {
      throw new IOException("cannot connect to the CA at " + caUrl + ": is iidca serve"
          + " running there?", e);
    }
    JsonNode body = null;
    try {
      body = JSON.readTree(response.body());
    } catch (IOException notJson) {
      // Proxies and load balancers answer with HTML; the status alone then tells the story.
    }
    return new Response(response.statusCode(), body);
  }
}
