package io.iidca.ca.policy;

import io.iidca.ca.pki.SubjectNames;
import io.iidca.ca.policy.NamePolicy.NameType;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;

/**
 * The syntax and the matching of {@link NamePolicy} patterns, one pair of methods per name
 * type. Names reach {@link #matches} in the form {@link IssuancePolicy#canonical} gives them:
 * DNS names and email addresses in lower case, IP addresses in Java's canonical text.
 *
 * <ul>
 *   <li>DNS: {@code host.example.com} matches that name only; {@code *.example.com} matches
 *       exactly one more label at the left, as RFC 6125, 6.4.3 wildcards do; {@code
 *       .example.com} matches any name that ends in {@code .example.com}, however many labels
 *       come before it, but not {@code example.com}.
 *   <li>IP: a CIDR range (RFC 4632, 3.1) of IPv4 or IPv6, or one address, which is a /32 or
 *       /128. Addresses compare by value. An IPv4-mapped IPv6 address ({@code ::ffff:10.0.0.1})
 *       is the IPv4 address, so it matches IPv4 ranges and no IPv6 range.
 *   <li>Email: a mailbox such as {@code ops@example.com}, or {@code @example.com} for every
 *       mailbox of that domain and not of its subdomains. Compared in lower case, because the
 *       CA lower-cases email names.
 *   <li>URI: an absolute URI, or a prefix that ends in {@code /}. Both the name and the pattern
 *       are normalized as RFC 3986, 6.2.2 and 6.2.3 describe before they are compared, so that
 *       {@code SPIFFE://Example.org/a/../admin} cannot pass for something other than {@code
 *       spiffe://example.org/admin}.
 * </ul>
 *
 * <p>Stateless and thread-safe. No name or pattern is resolved through DNS.
 */
final class NamePatterns {

  private static final int MAX_LOCAL_PART_LENGTH = 64;
  /** Ports that RFC 3986, 6.2.3 lets a normalizer drop, from RFC 9110, 4.2. */
  private static final Map<String, String> DEFAULT_PORTS = Map.of("http", "80", "https", "443");

  private NamePatterns() {}

  /**
   * Checks one pattern's syntax.
   *
   * @throws IllegalArgumentException whose message names the problem and how to write the
   *     pattern
   */
  static void check(NameType type, String pattern) {
    if (pattern == null || pattern.isEmpty()) {
      throw new IllegalArgumentException("a pattern must not be empty");
    }
    switch (type) {
      case DNS -> checkDns(pattern.toLowerCase(Locale.ROOT));
      case IP -> IpRange.parse(pattern);
      case EMAIL -> checkEmail(pattern.toLowerCase(Locale.ROOT));
      case URI -> normalizeUri(pattern);
    }
  }

  /**
   * Returns whether a canonical name of the pattern's type matches the pattern.
   *
   * @throws IllegalArgumentException when the pattern is invalid, so that an unvalidated policy
   *     fails instead of letting a name through
   */
  static boolean matches(NameType type, String pattern, String name) {
    return switch (type) {
      case DNS -> matchesDns(pattern.toLowerCase(Locale.ROOT), name);
      case IP -> IpRange.parse(pattern).contains(name);
      case EMAIL -> matchesEmail(pattern.toLowerCase(Locale.ROOT), name);
      case URI -> matchesUri(pattern, name);
    };
  }

  // ---- DNS ----

  private static void checkDns(String pattern) {
    if (SubjectNames.isIpAddress(pattern)) {
      throw new IllegalArgumentException("an IP address belongs in the ip list");
    }
    if (pattern.contains("://")) {
      throw new IllegalArgumentException("a URI belongs in the uri list");
    }
    if (pattern.contains("@")) {
      throw new IllegalArgumentException("an email address belongs in the email list");
    }
    String base = dnsBase(pattern);
    if (base.contains("*")) {
      throw new IllegalArgumentException("a wildcard must be the whole leftmost label, as in"
          + " *.example.com (RFC 6125, 6.4.3)");
    }
    if (!NameSyntax.isDnsName(base)) {
      throw new IllegalArgumentException("not a DNS name: write host.example.com,"
          + " *.example.com or .example.com, with letters, digits and hyphens in labels of at"
          + " most 63 characters");
    }
  }

  /** Returns the pattern without its leading {@code *.} or {@code .}. */
  private static String dnsBase(String pattern) {
    if (pattern.startsWith("*.")) {
      return pattern.substring(2);
    }
    return pattern.startsWith(".") ? pattern.substring(1) : pattern;
  }

  private static boolean matchesDns(String pattern, String name) {
    if (pattern.startsWith("*.")) {
      String suffix = pattern.substring(1);
      if (!name.endsWith(suffix)) {
        return false;
      }
      String label = name.substring(0, name.length() - suffix.length());
      return !label.isEmpty() && !label.contains(".");
    }
    if (pattern.startsWith(".")) {
      return name.endsWith(pattern) && name.length() > pattern.length();
    }
    return name.equals(pattern);
  }

  // ---- email ----

  private static void checkEmail(String pattern) {
    int at = pattern.lastIndexOf('@');
    if (at < 0) {
      throw new IllegalArgumentException("write a mailbox such as ops@example.com, or"
          + " @example.com for every mailbox of a domain");
    }
    String localPart = pattern.substring(0, at);
    String domain = pattern.substring(at + 1);
    if (!NameSyntax.isDnsName(domain)) {
      throw new IllegalArgumentException("the part after @ must be a DNS name");
    }
    if (localPart.equals("*")) {
      throw new IllegalArgumentException("write @" + domain + " for every mailbox of the"
          + " domain");
    }
    if (localPart.length() > MAX_LOCAL_PART_LENGTH || !isPrintableAscii(localPart)) {
      throw new IllegalArgumentException("the part before @ must be at most "
          + MAX_LOCAL_PART_LENGTH + " printable ASCII characters without spaces");
    }
  }

  private static boolean matchesEmail(String pattern, String name) {
    if (pattern.startsWith("@")) {
      return name.substring(name.lastIndexOf('@') + 1).equals(pattern.substring(1));
    }
    return name.equals(pattern);
  }

  // ---- URI ----

  private static boolean matchesUri(String pattern, String name) {
    String normalizedPattern = normalizeUri(pattern);
    // NameSyntax accepted the name as a URI with a scheme, so it normalizes too.
    String normalizedName = normalizeUri(name);
    return pattern.endsWith("/") ? normalizedName.startsWith(normalizedPattern)
        : normalizedName.equals(normalizedPattern);
  }

  /**
   * Normalizes a URI of the form {@code scheme://authority/path?query#fragment}: lower-cases
   * the scheme and the host, decodes percent-encoded unreserved characters and upper-cases the
   * hex digits of the others, removes dot segments (RFC 3986, 5.2.4), drops the default port of
   * http and https and an empty port, drops a trailing dot of the host, and writes an empty
   * path as {@code /}.
   *
   * @throws IllegalArgumentException when the text is no such URI
   */
  static String normalizeUri(String text) {
    if (!isPrintableAscii(text)) {
      throw new IllegalArgumentException("use printable ASCII without spaces,"
          + " percent-encoding anything else");
    }
    int separator = text.indexOf("://");
    if (separator <= 0) {
      throw new IllegalArgumentException("write a URI with a scheme, such as"
          + " spiffe://example.org/app, or a prefix that ends in /, such as"
          + " spiffe://example.org/ns/");
    }
    try {
      new URI(text);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("not a URI (RFC 3986): " + e.getReason() + " at index "
          + e.getIndex());
    }
    String decoded = normalizePercentEncoding(text);
    separator = decoded.indexOf("://");
    String scheme = decoded.substring(0, separator).toLowerCase(Locale.ROOT);
    String rest = decoded.substring(separator + 3);
    int authorityEnd = indexOfAny(rest, "/?#", 0);
    int pathEnd = indexOfAny(rest, "?#", authorityEnd);
    String authority = normalizeAuthority(scheme, rest.substring(0, authorityEnd));
    String path = removeDotSegments(rest.substring(authorityEnd, pathEnd));
    return scheme + "://" + authority + (path.isEmpty() ? "/" : path) + rest.substring(pathEnd);
  }

  private static String normalizeAuthority(String scheme, String authority) {
    int at = authority.lastIndexOf('@');
    String userInfo = authority.substring(0, at + 1);
    String hostPort = authority.substring(at + 1).toLowerCase(Locale.ROOT);
    int portStart = hostPort.lastIndexOf(':');
    if (portStart < hostPort.lastIndexOf(']')) {
      portStart = -1;
    }
    String host = portStart < 0 ? hostPort : hostPort.substring(0, portStart);
    String port = portStart < 0 ? "" : hostPort.substring(portStart + 1);
    if (host.endsWith(".")) {
      host = host.substring(0, host.length() - 1);
    }
    if (port.isEmpty() || port.equals(DEFAULT_PORTS.get(scheme))) {
      return userInfo + host;
    }
    return userInfo + host + ":" + port;
  }

  /** Percent-encoding normalization, RFC 3986, 6.2.2.1 and 6.2.2.2. */
  private static String normalizePercentEncoding(String text) {
    StringBuilder result = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '%' && i + 2 < text.length() && HexFormat.isHexDigit(text.charAt(i + 1))
          && HexFormat.isHexDigit(text.charAt(i + 2))) {
        int value = HexFormat.fromHexDigits(text, i + 1, i + 3);
        if (isUnreserved(value)) {
          result.append((char) value);
        } else {
          result.append('%').append(text.substring(i + 1, i + 3).toUpperCase(Locale.ROOT));
        }
        i += 2;
      } else {
        result.append(c);
      }
    }
    return result.toString();
  }

  /** The unreserved characters of RFC 3986, 2.3. */
  private static boolean isUnreserved(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
  }

  /** The remove_dot_segments algorithm of RFC 3986, 5.2.4. */
  static String removeDotSegments(String path) {
    String input = path;
    StringBuilder output = new StringBuilder();
    while (!input.isEmpty()) {
      if (input.startsWith("../")) {
        input = input.substring(3);
      } else if (input.startsWith("./") || input.startsWith("/./")) {
        input = input.substring(2);
      } else if (input.equals("/.")) {
        input = "/";
      } else if (input.startsWith("/../") || input.equals("/..")) {
        input = "/" + input.substring(input.length() == 3 ? 3 : 4);
        output.setLength(Math.max(output.lastIndexOf("/"), 0));
      } else if (input.equals(".") || input.equals("..")) {
        input = "";
      } else {
        int next = input.indexOf('/', 1);
        String segment = next < 0 ? input : input.substring(0, next);
        output.append(segment);
        input = input.substring(segment.length());
      }
    }
    return output.toString();
  }

  private static int indexOfAny(String text, String characters, int from) {
    for (int i = from; i < text.length(); i++) {
      if (characters.indexOf(text.charAt(i)) >= 0) {
        return i;
      }
    }
    return text.length();
  }

  private static boolean isPrintableAscii(String text) {
    return text.chars().allMatch(c -> c > 0x20 && c < 0x7f);
  }

  // ---- IP ----

  /**
   * An IPv4 or IPv6 range: the network address, with every bit after the prefix zero, and the
   * prefix length in bits.
   */
  record IpRange(byte[] network, int prefix) {

    /**
     * Parses {@code 10.0.0.0/8}, {@code fd00::/8} or one address.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    static IpRange parse(String pattern) {
      int slash = pattern.indexOf('/');
      String addressText = slash < 0 ? pattern : pattern.substring(0, slash);
      if (!SubjectNames.isIpAddress(addressText)) {
        throw new IllegalArgumentException("not an IP address or CIDR range: write one such as"
            + " 10.0.0.0/8, fd00::/8 or 10.0.0.5");
      }
      byte[] address = literal(addressText);

      // Java reads an IPv4-mapped IPv6 literal as the IPv4 address, and so does canonical().
      boolean mapped = address.length == 4 && addressText.contains(":");
      int max = mapped ? 128 : address.length * 8;
      int prefix = max;
      if (slash >= 0) {
        String prefixText = pattern.substring(slash + 1);
        if (!prefixText.matches("[0-9]{1,3}") || Integer.parseInt(prefixText) > max) {
          throw new IllegalArgumentException("the prefix length after / must be a number from"
              + " 0 to " + max);
        }
        prefix = Integer.parseInt(prefixText);
      }

      if (mapped) {
        if (prefix < 96) {
          throw new IllegalArgumentException("an IPv4-mapped IPv6 range needs a prefix length"
              + " of 96 or more: write the IPv4 range instead");
        }
        prefix -= 96;
      }

      byte[] network = mask(address, prefix);
      if (!Arrays.equals(network, address)) {
        throw new IllegalArgumentException("bits after the prefix are set: the range is "
            + text(network) + "/" + prefix);
      }
      return new IpRange(network, prefix);
    }

    /** Returns whether a canonical IP address lies in the range; false for other names. */
    boolean contains(String name) {
      if (!SubjectNames.isIpAddress(name)) {
        return false;
      }
      byte[] address = literal(name);
      return address.length == network.length
          && Arrays.equals(mask(address, prefix), network);
    }

    private static byte[] mask(byte[] address, int prefix) {
      byte[] masked = address.clone();
      for (int bit = prefix; bit < masked.length * 8; bit++) {
        masked[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
      }
      return masked;
    }

    /** Parses an IP literal that {@link SubjectNames#isIpAddress} accepted; no DNS lookup. */
    private static byte[] literal(String text) {
      try {
        return InetAddress.getByName(text).getAddress();
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException("not an IP address: " + e.getMessage(), e);
      }
    }

    private static String text(byte[] address) {
      try {
        return InetAddress.getByAddress(address).getHostAddress();
      } catch (UnknownHostException e) {
        throw new IllegalStateException("an address of " + address.length + " bytes", e);
      }
    }
  }
}
