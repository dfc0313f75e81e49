package io.iidca.routes.client;

import io.iidca.ca.provisioner.Audience;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Fetches a Compute Engine instance identity token from the metadata server, as "Verifying the
 * identity of instances" in the Compute Engine documentation describes: {@code GET
 * /computeMetadata/v1/instance/service-accounts/default/identity?audience=A&format=full} with
 * the header {@code Metadata-Flavor: Google}.
 *
 * <p>The server is {@code http://metadata.google.internal} unless {@code GCE_METADATA_HOST}
 * names another {@code host[:port]}, the variable Google's client libraries read. Plain HTTP is
 * what the metadata server speaks; no proxy is used and redirects are not followed. A response
 * without {@code Metadata-Flavor: Google} is rejected, because it did not come from a metadata
 * server. Thread-safe.
 */
public final class GcpMetadataClient {

  public static final String DEFAULT_HOST = "metadata.google.internal";
  public static final String HOST_VARIABLE = "GCE_METADATA_HOST";
  /** The maximum token length; Google's tokens have about 1,100 characters. */
  public static final int MAX_TOKEN_LENGTH = 16 * 1024;

  private static final String IDENTITY =
      "/computeMetadata/v1/instance/service-accounts/default/identity";
  private static final Pattern COMPACT_JWS =
      Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");

  private final URI endpoint;
  private final Duration timeout;

  /**
   * Creates a client.
   *
   * @param endpoint the metadata server's base URI, such as {@code http://127.0.0.1:8170}
   * @param timeout the connect timeout, and the time for the whole exchange
   */
  public GcpMetadataClient(URI endpoint, Duration timeout) {
    this.endpoint = endpoint;
    this.timeout = timeout;
  }

  /**
   * Returns the endpoint that {@code GCE_METADATA_HOST} in {@code environment} names, or
   * {@code http://metadata.google.internal} when it is unset or blank.
   *
   * @throws IllegalArgumentException when the variable is not {@code host[:port]}
   */
  public static URI endpointFromEnvironment(Map<String, String> environment) {
    String configured = environment.get(HOST_VARIABLE);
    String host = configured == null || configured.isBlank() ? DEFAULT_HOST : configured.strip();
    URI uri;
    try {
      uri = new URI("http://" + host);
    } catch (URISyntaxException e) {
      throw invalidHost(configured);
    }
    if (uri.getHost() == null || uri.getRawUserInfo() != null || !uri.getRawPath().isEmpty()
        || uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw invalidHost(configured);
    }
    return uri;
  }

  private static IllegalArgumentException invalidHost(String value) {
    return new IllegalArgumentException(HOST_VARIABLE + " '" + value + "' is invalid: set it"
        + " to host[:port] without a scheme or path, such as 127.0.0.1:8170, or unset it to"
        + " use " + DEFAULT_HOST);
  }

  /**
   * Builds the audience that binds a token to {@code key}:
   * {@code <ca-url>/1.0/sign?spki=<digest>#gcp/<name>}, as {@link Audience#bound} defines it.
   */
  public static String boundAudience(String caUrl, String provisionerName, PublicKey key) {
    return Audience.bound(caUrl, "gcp", provisionerName, key);
  }

  /**
   * Fetches an identity token for the audience, in the full format with the instance's claims.
   *
   * @throws IOException with a message that names the URL, what failed and what to do
   */
  public String fetchIdentityToken(String audience) throws IOException, InterruptedException {
    URI url = URI.create(endpoint + IDENTITY + "?audience="
        + URLEncoder.encode(audience, StandardCharsets.UTF_8) + "&format=full");
    MetadataHttp.Response response = send(url);
    String location = "GET " + endpoint + IDENTITY;
    if (!"Google".equals(response.header("Metadata-Flavor"))) {
      throw new IOException(location + " returned HTTP " + response.status()
          + " without the header Metadata-Flavor: Google, so the server is not a Compute"
          + " Engine metadata server; check " + HOST_VARIABLE);
    }
    checkStatus(location, response.status());
    String token = new String(response.body(), StandardCharsets.US_ASCII).strip();
    if (token.length() > MAX_TOKEN_LENGTH || !COMPACT_JWS.matcher(token).matches()) {
      throw new IOException(location + " returned " + token.length() + " characters that are"
          + " not a signed JWT");
    }
    return token;
  }

  private static void checkStatus(String location, int status) throws IOException {
    switch (status) {
      case 200 -> {
        return;
      }
      case 403 -> throw new IOException(location + " returned 403: the metadata server"
          + " rejects requests that lack Metadata-Flavor: Google or pass through a proxy"
          + " (X-Forwarded-For)");
      case 404 -> throw new IOException(location + " returned 404: the instance has no"
          + " service account; attach one to the instance to get identity tokens");
      default -> throw new IOException(location + " returned HTTP " + status
          + ", expected 200");
    }
  }

  /** Runs the exchange with a deadline that also covers the response body. */
  private MetadataHttp.Response send(URI url) throws IOException, InterruptedException {
    // A limit just past the longest token accepted is enough to reject an inflated response.
    int limit = MAX_TOKEN_LENGTH + 1024;
    try {
      return MetadataHttp.exchangeWithin("GET", url, Map.of("Metadata-Flavor", "Google"), null,
          timeout, limit);
    } catch (SocketTimeoutException e) {
      throw timedOut();
    } catch (MetadataHttp.TooLargeException e) {
      throw new IOException("GET " + endpoint + IDENTITY + " returned more than " + limit
          + " bytes, more than any identity token needs", e);
    } catch (ConnectException e) {
      throw new IOException("cannot connect to the metadata server at " + endpoint
          + ": is this a Compute Engine instance, or should " + HOST_VARIABLE
          + " point at a metadata emulator?", e);
    } catch (IOException e) {
      throw new IOException("GET " + endpoint + IDENTITY + " failed: " + e, e);
    }
  }

  private IOException timedOut() {
    return new IOException("GET " + endpoint + IDENTITY + " timed out after "
        + timeout.toMillis() + " ms: is this a Compute Engine instance, or should "
        + HOST_VARIABLE + " point at a metadata emulator?");
  }
}
