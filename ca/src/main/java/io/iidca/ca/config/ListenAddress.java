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
      // Brackets enclose an IPv6 literal only (RFC 3986, 3.2.2), never an empty host.
      host = host.substring(1, host.length() - 1);
      if (!host.contains(":")) {
        throw invalid(text);
      }
    } else if (host.contains(":")) {
      throw invalid(text);
    }
    if (host.contains("[") || host.contains("]")) {
      throw invalid(text);
    }
    String portText = text.substring(colon + 1);
    // Digits only: Integer.parseInt would also accept a sign, as in +443.
    if (!portText.matches("[0-9]{1,5}")) {
      throw invalid(text);
    }
    int port = Integer.parseInt(portText);
    if (port > 65535) {
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
