package io.iidca.ca.config;

/**
 * A listen address as operators write it: {@code :443} (every interface), {@code 127.0.0.1:8443}
 * or {@code [::1]:8443}.
 */
public record ListenAddress(String host, int port) {

  /**
   * Parses HOST:PORT.
   *
   * @throws IllegalArgumentException naming the value and the expected form
   */
  public static ListenAddress parse(String text) {
    int colon = text.lastIndexOf(':');
    if (colon < 0) {
      throw invalid(text);
    }
    String host = text.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.contains(":")) {
      throw invalid(text);
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw invalid(text);
    }
    if (port < 0 || port > 65535) {
      throw invalid(text);
    }
    return new ListenAddress(host.isEmpty() ? "0.0.0.0" : host, port);
  }

  @Override
  public String toString() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  private static IllegalArgumentException invalid(String text) {
    return new IllegalArgumentException("invalid address '" + text
        + "': use HOST:PORT such as :443, 127.0.0.1:8443 or [::1]:8443");
  }
}
