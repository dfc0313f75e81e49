package io.iidca.ca.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * The restrictions and key source of a GCP provisioner, under {@code gcp:} in its YAML.
 *
 * <p>Google documents the identity token and its claims in "Verifying the identity of
 * instances" (cloud.google.com/compute/docs/instances/verifying-instance-identity).
 *
 * @param projectIds project ids whose instances may enroll; empty allows any project whose
 *     service account is listed
 * @param serviceAccounts service account emails or numeric ids that may enroll; empty allows
 *     any service account of a listed project
 * @param zones zones ({@code us-central1-a}) or regions ({@code us-central1}) the instance must
 *     run in; empty allows any
 * @param jwksUrl the URL of Google's signing keys as a JSON Web Key Set
 * @param leeway clock skew tolerated on {@code exp} and {@code iat}
 * @param requireKeyBinding accept only tokens whose audience carries the digest of the CSR's
 *     public key
 */
public record GcpOptions(
    List<String> projectIds,
    List<String> serviceAccounts,
    List<String> zones,
    String jwksUrl,
    Duration leeway,
    boolean requireKeyBinding) {

  /** Google's OAuth 2.0 signing keys, the keys of {@code https://accounts.google.com}. */
  public static final String GOOGLE_JWKS_URL = "https://www.googleapis.com/oauth2/v3/certs";
  public static final Duration DEFAULT_LEEWAY = Duration.ofSeconds(60);
  /** The largest leeway accepted: a token lives one hour, so more would defeat its expiry. */
  public static final Duration MAX_LEEWAY = Duration.ofMinutes(5);

  public GcpOptions {
    projectIds = List.copyOf(projectIds);
    serviceAccounts = List.copyOf(serviceAccounts);
    zones = List.copyOf(zones);
    jwksUrl = jwksUrl == null ? GOOGLE_JWKS_URL : jwksUrl;
    leeway = leeway == null ? DEFAULT_LEEWAY : leeway;
  }

  /** Options that allow the given projects, with Google's keys and the default leeway. */
  public static GcpOptions projects(List<String> projectIds) {
    return new GcpOptions(projectIds, List.of(), List.of(), null, null, false);
  }

  /**
   * Validates the options.
   *
   * @param key the YAML key of these options, such as {@code provisioners[0].gcp}
   */
  public void validate(String key) {
    if (projectIds.isEmpty() && serviceAccounts.isEmpty()) {
      throw new ConfigException(key + ".projectIds", null, "a GCP provisioner needs at least"
          + " one project (--gcp-project) or service account (--gcp-service-account),"
          + " otherwise every GCP project could enroll");
    }
    for (String project : projectIds) {
      // Project ids: 6 to 30 lowercase letters, digits and hyphens, starting with a letter.
      if (!project.matches("[a-z][a-z0-9-]{4,28}[a-z0-9]")) {
        throw new ConfigException(key + ".projectIds", project, "a project id is 6 to 30"
            + " lowercase letters, digits and hyphens, such as my-project-123 (not the"
            + " project number or display name)");
      }
    }
    for (String account : serviceAccounts) {
      if (!account.matches("\\d{1,30}") && !account.matches("[^@\\s]+@[^@\\s]+\\.[a-z]+")) {
        throw new ConfigException(key + ".serviceAccounts", account,
            "name a service account by its email or its numeric id");
      }
    }
    for (String zone : zones) {
      if (!zone.matches("[a-z]+-[a-z]+\\d+(-[a-z])?")) {
        throw new ConfigException(key + ".zones", zone,
            "name a zone such as us-central1-a or a region such as us-central1");
      }
    }
    checkHttpsUrl(key + ".jwksUrl", jwksUrl);
    if (leeway.isNegative() || leeway.compareTo(MAX_LEEWAY) > 0) {
      throw new ConfigException(key + ".leeway", Durations.format(leeway),
          "must be between 0s and " + Durations.format(MAX_LEEWAY));
    }
  }

  /** Returns whether a zone is allowed: listed, or in a listed region. */
  public boolean allowsZone(String zone) {
    if (zones.isEmpty()) {
      return true;
    }
    for (String allowed : zones) {
      if (allowed.equals(zone) || zone.startsWith(allowed + "-") && isRegion(allowed)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isRegion(String name) {
    return name.matches("[a-z]+-[a-z]+\\d+");
  }

  static void checkHttpsUrl(String key, String url) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (java.net.URISyntaxException e) {
      throw new ConfigException(key, url, "not a URL: " + e.getMessage());
    }
    if (uri.getHost() == null) {
      throw new ConfigException(key, url, "must be an https:// URL with a host");
    }
    boolean loopbackHttp = "http".equalsIgnoreCase(uri.getScheme()) && isLoopback(uri.getHost());
    if (!"https".equalsIgnoreCase(uri.getScheme()) && !loopbackHttp) {
      throw new ConfigException(key, url, "must be an https:// URL, because the keys it"
          + " serves decide which tokens are genuine (http:// is accepted only on loopback,"
          + " for a metadata emulator)");
    }
  }

  /** Returns whether a URL host is a loopback literal or localhost; nothing is resolved. */
  private static boolean isLoopback(String host) {
    String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    return bare.equalsIgnoreCase("localhost") || bare.matches("127(\\.\\d{1,3}){3}")
        || bare.equals("::1") || bare.equals("0:0:0:0:0:0:0:1");
  }
}
