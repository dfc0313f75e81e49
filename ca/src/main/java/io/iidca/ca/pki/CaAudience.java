package io.iidca.ca.pki;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;

/** The {@code aud} of a token that is good for one of this CA's HTTPS endpoints only. */
public final class CaAudience {

  private CaAudience() {}

  /** Returns the audience for {@code path}, such as {@code /1.0/renew}, at {@code caUrl}. */
  public static String of(String caUrl, String path) {
    String base = caUrl.endsWith("/") ? caUrl.substring(0, caUrl.length() - 1) : caUrl;
    return base + path;
  }

  /**
   * Succeeds when {@code audience} is an HTTPS URL with exactly {@code path}, no query or
   * fragment, and a host that is one of the CA's {@code dnsNames} (any port).
   */
  public static boolean matches(String audience, List<String> dnsNames, String path) {
    try {
      URI uri = new URI(audience);
      String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT)
          .replace("[", "").replace("]", "");
      return "https".equals(uri.getScheme()) && path.equals(uri.getPath())
          && uri.getQuery() == null && uri.getFragment() == null
          && dnsNames.stream().anyMatch(name -> name.equalsIgnoreCase(host));
    } catch (URISyntaxException e) {
      return false;
    }
  }
}
