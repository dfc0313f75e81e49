package io.iidca.routes.client;

import io.iidca.ca.config.ProvisionerConfig;
import java.net.URI;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The address of each cloud's metadata service: its own address, unless the variable its own
 * tools read names another, or the caller gives one.
 *
 * <ul>
 *   <li>AWS: {@code http://169.254.169.254}, or {@code AWS_EC2_METADATA_SERVICE_ENDPOINT}, a URL
 *       (AWS SDKs' variable).
 *   <li>GCP: {@code http://metadata.google.internal}, or {@code GCE_METADATA_HOST}, a host with
 *       an optional port and no scheme (Google's client libraries' variable).
 *   <li>Azure: {@code http://169.254.169.254}, or {@code AZURE_POD_IDENTITY_AUTHORITY_HOST}, a
 *       URL (the variable Microsoft's MSAL and Azure Identity libraries read for IMDS).
 * </ul>
 */
public final class MetadataEndpoints {

  public static final String AWS_VARIABLE = AwsMetadataClient.ENDPOINT_VARIABLE;
  public static final String GCP_VARIABLE = GcpMetadataClient.HOST_VARIABLE;
  public static final String AZURE_VARIABLE = AzureMetadataClient.ENDPOINT_VARIABLE;
  public static final String LINK_LOCAL_DEFAULT = "http://169.254.169.254";

  private MetadataEndpoints() {}

  /**
   * Returns the endpoint for a provisioner type.
   *
   * @param explicit an endpoint the caller gives, which wins; null for none
   * @param variables reads an environment variable
   * @throws IllegalArgumentException naming the variable when its value is not usable
   */
  public static URI resolve(String type, URI explicit, UnaryOperator<String> variables) {
    if (explicit != null) {
      return trim(explicit.toString());
    }
    return switch (type) {
      case ProvisionerConfig.TYPE_GCP -> {
        String host = variables.apply(GCP_VARIABLE);
        yield GcpMetadataClient.endpointFromEnvironment(
            host == null ? Map.of() : Map.of(GCP_VARIABLE, host));
      }
      case ProvisionerConfig.TYPE_AZURE -> fromUrlVariable(variables, AZURE_VARIABLE);
      default -> fromUrlVariable(variables, AWS_VARIABLE);
    };
  }

  private static URI fromUrlVariable(UnaryOperator<String> variables, String name) {
    String value = variables.apply(name);
    if (value == null || value.isBlank()) {
      return URI.create(LINK_LOCAL_DEFAULT);
    }
    return parse(name, value.strip());
  }

  private static URI parse(String name, String value) {
    URI uri;
    try {
      uri = trim(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(name + "=" + value + " is not a URL: " + e.getMessage());
    }
    if (uri.getHost() == null || !"http".equalsIgnoreCase(uri.getScheme())) {
      throw new IllegalArgumentException(name + "=" + value + " must be an http:// URL with a"
          + " host, such as http://127.0.0.1:8080");
    }
    return uri;
  }

  private static URI trim(String value) {
    return URI.create(value.replaceAll("/+$", ""));
  }
}
