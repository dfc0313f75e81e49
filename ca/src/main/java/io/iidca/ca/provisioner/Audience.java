package io.iidca.ca.provisioner;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A token audience in step-ca's form, {@code https://HOST[:PORT]/1.0/sign#TYPE/NAME}: the CA's
 * sign URL, and in the fragment the provisioner type and name. The name is taken verbatim
 * (step's client does not escape spaces) or percent-decoded.
 */
public record Audience(String host, String path, String type, String provisionerName) {

  private static final List<String> SIGN_PATHS = List.of("/1.0/sign", "/sign");

  /** Parses an audience; empty when it has no {@code TYPE/NAME} fragment or no HTTPS URL. */
  public static Optional<Audience> parse(String audience) {
    int hash = audience.indexOf('#');
    if (hash < 0) {
      return Optional.empty();
    }
    String fragment = audience.substring(hash + 1);
    int slash = fragment.indexOf('/');
    if (slash <= 0 || slash == fragment.length() - 1) {
      return Optional.empty();
    }
    URI uri;
    try {
      uri = new URI(audience.substring(0, hash));
    } catch (URISyntaxException e) {
      return Optional.empty();
    }
    if (!"https".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
      return Optional.empty();
    }
    String host = uri.getHost().toLowerCase(Locale.ROOT);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    String name = fragment.substring(slash + 1);
    if (name.contains("%")) {
      name = URLDecoder.decode(name.replace("+", "%2B"), StandardCharsets.UTF_8);
    }
    return Optional.of(new Audience(host, uri.getPath(),
        fragment.substring(0, slash).toLowerCase(Locale.ROOT), name));
  }

  /**
   * Returns whether the URL part names this CA's sign endpoint under one of its DNS names or
   * addresses. The port is not compared, so that a CA behind a load balancer or a port mapping
   * accepts the URL its clients use, as step-ca does.
   */
  public boolean isSignUrlOf(List<String> dnsNames) {
    if (!SIGN_PATHS.contains(path)) {
      return false;
    }
    for (String name : dnsNames) {
      if (name.toLowerCase(Locale.ROOT).equals(host)) {
        return true;
      }
    }
    return false;
  }

  /** Builds the audience that clients put in their tokens. */
  public static String of(String caUrl, String type, String provisionerName) {
    String base = caUrl.endsWith("/") ? caUrl.substring(0, caUrl.length() - 1) : caUrl;
    return base + "/1.0/sign#" + type + "/" + provisionerName;
  }
}
