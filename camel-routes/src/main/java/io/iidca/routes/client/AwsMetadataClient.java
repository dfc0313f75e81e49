package io.iidca.routes.client;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;

/**
 * Fetches the instance identity document and its {@code /rsa2048} signature from the EC2
 * instance metadata service (AWS EC2 User Guide, "Use the Instance Metadata Service to access
 * instance metadata" and "Instance identity documents").
 *
 * <p>IMDSv2 first: a session token from {@code PUT /latest/api/token}, sent with every GET. When
 * the PUT fails or gets no answer (a hop limit of 1 drops it for containers), the client falls
 * back to IMDSv1 and, if that is refused too, reports both causes with the fix.
 *
 * <p>The endpoint is {@code http://169.254.169.254} unless
 * {@code AWS_EC2_METADATA_SERVICE_ENDPOINT} (the AWS SDKs' variable) names another.
 */
public final class AwsMetadataClient {

  public static final String DEFAULT_ENDPOINT = "http://169.254.169.254";
  public static final String ENDPOINT_VARIABLE = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
  private static final String DOCUMENT = "/latest/dynamic/instance-identity/document";
  private static final String RSA2048 = "/latest/dynamic/instance-identity/rsa2048";

  private final URI endpoint;
  /** The maximum body read, in bytes. A document is about 0.5 KB, its PKCS#7 about 1.5 KB. */
  private static final int MAX_BODY_BYTES = 64 * 1024;

  private final Duration timeout;

  public AwsMetadataClient(URI endpoint, Duration timeout) {
    this.endpoint = endpoint;
    this.timeout = timeout;
  }

  /** The endpoint from the environment, or the link-local default. */
  public static URI endpointFromEnvironment() {
    String configured = System.getenv(ENDPOINT_VARIABLE);
    String value = configured == null || configured.isBlank() ? DEFAULT_ENDPOINT : configured;
    return URI.create(value.endsWith("/") ? value.substring(0, value.length() - 1) : value);
  }

  /** The document's exact bytes and the DER PKCS#7 of {@code /rsa2048}. */
  public record SignedDocument(byte[] document, byte[] rsa2048) {}

  /**
   * Fetches the document and its RSA-2048 PKCS#7.
   *
   * @throws IOException with a message that names the endpoint, what failed and what to do
   */
  public SignedDocument fetch() throws IOException, InterruptedException {
    return fetch(true);
  }

  /**
   * Fetches the document and its RSA-2048 PKCS#7, and falls back to IMDSv1 only when
   * {@code imdsV1Fallback} is set. Without the fallback, a failed token request ends the fetch,
   * after one timeout instead of two.
   *
   * @throws IOException with a message that names the endpoint, what failed and what to do
   */
  public SignedDocument fetch(boolean imdsV1Fallback) throws IOException, InterruptedException {
    String token = null;
    String tokenProblem = null;
    try {
      token = sessionToken();
    } catch (SocketTimeoutException e) {
      tokenProblem = "the IMDSv2 token request (PUT /latest/api/token) timed out after "
          + timeout.toMillis() + " ms";
    } catch (java.net.ConnectException e) {
      throw new IOException("cannot connect to the instance metadata service at " + endpoint
          + ": is this an EC2 instance, or should " + ENDPOINT_VARIABLE + " point at a"
          + " metadata emulator?", e);
    } catch (IOException e) {
      tokenProblem = "the IMDSv2 token request failed: " + e.getMessage();
    }
    if (tokenProblem != null && !imdsV1Fallback) {
      throw new IOException("cannot read the instance identity document from " + endpoint
          + ": " + tokenProblem);
    }
    try {
      byte[] document = get(DOCUMENT, token);
      byte[] rsa2048 = Base64.getMimeDecoder().decode(get(RSA2048, token));
      return new SignedDocument(document, rsa2048);
    } catch (MetadataException e) {
      if (tokenProblem == null) {
        throw new IOException("cannot read the instance identity document from " + endpoint
            + ": " + e.getMessage(), e);
      }
      throw new IOException("cannot read the instance identity document from " + endpoint
          + ": " + tokenProblem + ", and the IMDSv1 fallback failed (" + e.getMessage()
          + "). In a container, raise the instance's PUT response hop limit to 2 (aws ec2"
          + " modify-instance-metadata-options --http-put-response-hop-limit 2)", e);
    }
  }

  private String sessionToken() throws IOException, InterruptedException {
    MetadataHttp.Response response = exchange("PUT", endpoint.resolve("/latest/api/token"),
        Map.of("X-aws-ec2-metadata-token-ttl-seconds", "300"), new byte[0]);
    if (response.status() != 200) {
      throw new IOException("HTTP " + response.status());
    }
    return new String(response.body(), StandardCharsets.US_ASCII).strip();
  }

  private byte[] get(String path, String token) throws IOException, InterruptedException {
    Map<String, String> headers = token == null ? Map.of()
        : Map.of("X-aws-ec2-metadata-token", token);
    MetadataHttp.Response response;
    try {
      response = exchange("GET", endpoint.resolve(path), headers, null);
    } catch (SocketTimeoutException e) {
      throw new MetadataException("GET " + path + " timed out after " + timeout.toMillis()
          + " ms");
    } catch (java.net.ConnectException e) {
      throw new MetadataException("cannot connect to " + endpoint + ": is this an EC2 instance,"
          + " or should " + ENDPOINT_VARIABLE + " point at a metadata emulator?");
    }
    if (response.status() == 401) {
      throw new MetadataException("GET " + path + " returned 401: IMDSv1 is disabled on this"
          + " instance and no IMDSv2 token was obtained");
    }
    if (response.status() != 200) {
      throw new MetadataException("GET " + path + " returned HTTP " + response.status());
    }
    return response.body();
  }

  /** Runs one request with the timeout over the whole response. */
  private MetadataHttp.Response exchange(String method, URI uri, Map<String, String> headers,
      byte[] body) throws IOException, InterruptedException {
    return MetadataHttp.exchangeWithin(method, uri, headers, body, timeout, MAX_BODY_BYTES);
  }

  /** A metadata request that failed, with a message for the user. */
  static final class MetadataException extends IOException {
    MetadataException(String message) {
      super(message);
    }
  }
}
