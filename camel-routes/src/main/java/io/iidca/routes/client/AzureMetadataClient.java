package io.iidca.routes.client;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * Reads what an Azure VM needs to enroll from the Azure Instance Metadata Service
 * ("Azure Instance Metadata Service" and "How to use managed identities for Azure resources on
 * an Azure VM to acquire an access token", learn.microsoft.com): the cloud ({@code
 * azEnvironment}), a managed-identity access token for a resource, and the attested document
 * signed over a nonce. Every request sends {@code Metadata: true}, bypasses proxies (IMDS must
 * not be reached through one), has one timeout over the whole exchange and reads at most
 * {@value #MAX_BODY_BYTES} bytes.
 *
 * <p>The endpoint is {@code http://169.254.169.254} unless {@value #ENDPOINT_VARIABLE} or the
 * constructor names another, such as a metadata emulator on loopback. Thread-safe.
 */
public final class AzureMetadataClient {

  public static final String DEFAULT_ENDPOINT = "http://169.254.169.254";
  /** The variable that Microsoft's MSAL libraries read to reach IMDS at another address. */
  public static final String ENDPOINT_VARIABLE = "AZURE_POD_IDENTITY_AUTHORITY_HOST";
  public static final String TOKEN_API_VERSION = "2018-02-01";
  public static final String ATTESTED_API_VERSION = "2020-09-01";
  public static final String INSTANCE_API_VERSION = "2021-02-01";

  /** Resource Manager URLs per azEnvironment, the default token audience of each cloud. */
  private static final Map<String, String> RESOURCES = Map.of(
      "AzurePublicCloud", "https://management.azure.com/",
      "AzureUSGovernmentCloud", "https://management.usgovcloudapi.net/",
      "AzureChinaCloud", "https://management.chinacloudapi.cn/");
  private static final int MAX_ERROR_LENGTH = 200;
  /** The maximum body of an IMDS response; tokens and attested documents take a few KiB. */
  static final int MAX_BODY_BYTES = 64 * 1024;

  private final URI endpoint;
  private final Duration timeout;

  public AzureMetadataClient(URI endpoint, Duration timeout) {
    this.endpoint = URI.create(endpoint.toString().replaceFirst("/+$", ""));
    this.timeout = timeout;
  }

  /**
   * Returns the Resource Manager URL of an azEnvironment, which the CA expects as the token
   * audience by default.
   *
   * @throws IOException naming the value and the known environments
   */
  public static String resourceFor(String environment) throws IOException {
    String resource = RESOURCES.get(environment);
    if (resource == null) {
      throw new IOException("unknown azEnvironment '" + environment + "', expected one of "
          + RESOURCES.keySet() + "; pass the token resource explicitly");
    }
    return resource;
  }

  /** Returns the VM's azEnvironment, such as {@code AzurePublicCloud}. */
  public String environment() throws IOException, InterruptedException {
    return get("/metadata/instance/compute/azEnvironment?api-version=" + INSTANCE_API_VERSION
        + "&format=text").strip();
  }

  /**
   * Returns a managed-identity access token for {@code resource}.
   *
   * @throws IOException naming the URL, the status and IMDS's error, such as a VM without a
   *     managed identity
   */
  public String token(String resource) throws IOException, InterruptedException {
    String path = "/metadata/identity/oauth2/token?api-version=" + TOKEN_API_VERSION
        + "&resource=" + URLEncoder.encode(resource, StandardCharsets.UTF_8);
    return field(path, get(path), "access_token");
  }

  /**
   * Returns the attested document's base64 PKCS#7 signed over {@code nonce}.
   *
   * @param nonce the nonce from the CA: up to 32 letters and digits
   */
  public String attestedDocument(String nonce) throws IOException, InterruptedException {
    if (!nonce.matches("[A-Za-z0-9]{1,32}")) {
      throw new IOException("nonce '" + nonce + "' is not 1 to 32 letters and digits, which"
          + " IMDS requires");
    }
    String path = "/metadata/attested/document?api-version=" + ATTESTED_API_VERSION
        + "&nonce=" + nonce;
    return field(path, get(path), "signature");
  }

  private String field(String path, String body, String name) throws IOException {
    try {
      JsonNode node = StreamingJson.read(body.getBytes(StandardCharsets.UTF_8));
      if (!node.path(name).isTextual()) {
        throw new IOException("GET " + endpoint + path + " returned JSON without the string"
            + " field '" + name + "'");
      }
      return node.get(name).asText();
    } catch (JacksonException e) {
      throw new IOException("GET " + endpoint + path + " did not return JSON: "
          + e.getOriginalMessage(), e);
    }
  }

  /**
   * Runs one request with a deadline over the whole exchange, body included, and at most
   * {@value #MAX_BODY_BYTES} bytes of body, so a slow or inflated response cannot stall or
   * exhaust the client.
   */
  private String get(String pathAndQuery) throws IOException, InterruptedException {
    URI uri = URI.create(endpoint + pathAndQuery);
    MetadataHttp.Response response;
    try {
      response = MetadataHttp.exchangeWithin("GET", uri, Map.of("Metadata", "true"), null,
          timeout, MAX_BODY_BYTES);
    } catch (SocketTimeoutException e) {
      throw timedOut(uri, e);
    } catch (MetadataHttp.TooLargeException e) {
      throw new IOException("GET " + uri + " returned more than " + MAX_BODY_BYTES
          + " bytes, more than any token or attested document needs", e);
    } catch (ConnectException e) {
      throw new IOException("cannot connect to the Azure Instance Metadata Service at "
          + endpoint + ": is this an Azure VM, or should " + ENDPOINT_VARIABLE + " point at a"
          + " metadata emulator?", e);
    } catch (IOException e) {
      throw new IOException("GET " + uri + " failed: " + e, e);
    }
    String body = new String(response.body(), StandardCharsets.UTF_8);
    if (response.status() != 200) {
      throw new IOException("GET " + uri + " returned HTTP " + response.status() + ": "
          + errorOf(body) + hint(pathAndQuery, response.status()));
    }
    return body;
  }

  private IOException timedOut(URI uri, Throwable cause) {
    return new IOException("GET " + uri + " timed out after " + timeout.toMillis() + " ms: is"
        + " this an Azure VM, or should " + ENDPOINT_VARIABLE + " point at a metadata"
        + " emulator?", cause);
  }

  private static String hint(String path, int status) {
    if (path.startsWith("/metadata/identity/") && (status == 400 || status == 404)) {
      return "; assign a managed identity to the VM (az vm identity assign)";
    }
    return "";
  }

  /** Returns IMDS's error text, shortened and without line breaks. */
  private static String errorOf(String body) {
    String text = body;
    try {
      JsonNode node = StreamingJson.read(body.getBytes(StandardCharsets.UTF_8));
      if (node.has("error_description")) {
        text = node.get("error_description").asText();
      } else if (node.has("error")) {
        text = node.get("error").asText();
      }
    } catch (IOException e) {
      // Not JSON: the raw body, shortened, is the best description.
    }
    text = text.replaceAll("[\\r\\n]+", " ");
    return text.length() > MAX_ERROR_LENGTH ? text.substring(0, MAX_ERROR_LENGTH) + "..." : text;
  }
}
