package io.iidca.ca.policy;

import io.iidca.ca.error.PolicyDeniedException;
import io.iidca.ca.pki.SubjectNames;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.regex.Pattern;

/**
 * Checks the syntax of a requested subject alternative name, in lower case, by the type that
 * {@link SubjectNames} gives it: IP literal, URI (contains {@code ://}), email address
 * (contains {@code @}) or DNS name. Every accepted name is printable ASCII without spaces,
 * because X.509 encodes these types as IA5String (RFC 5280, 4.2.1.6), and because the store
 * separates names with line breaks.
 *
 * <p>Not checked: whether a name resolves or its domain exists. Stateless and thread-safe.
 */
public final class NameSyntax {

  /**
   * RFC 1035, 2.3.4 limits a label to 63 octets and a name to 255 on the wire, which is 253
   * characters in text.
   */
  private static final Pattern DNS_NAME = Pattern.compile(
      "(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");
  /** RFC 3696, 2: a top-level domain is never all-numeric, so 10.0.0.256 is no DNS name. */
  private static final Pattern NUMERIC_LAST_LABEL = Pattern.compile("(.*\\.)?[0-9]+");
  /** RFC 5321, 4.5.3.1.3 limits a path to 256 octets, so a mailbox between brackets to 254. */
  static final int MAX_EMAIL_LENGTH = 254;
  /** RFC 5321, 4.5.3.1.1 limits a local part to 64 octets. */
  static final int MAX_LOCAL_PART_LENGTH = 64;
  /** A bound for URIs in certificates; RFC 3986 sets none, and 2048 is common practice. */
  static final int MAX_URI_LENGTH = 2048;

  private NameSyntax() {}

  /**
   * Denies a name whose syntax is invalid for its type.
   *
   * @throws PolicyDeniedException naming the name and the rule it breaks
   */
  static void check(String name, String stage) {
    if (SubjectNames.isIpAddress(name)) {
      return;
    }
    if (name.contains("://")) {
      checkUri(name, stage);
    } else if (name.contains("@")) {
      checkEmail(name, stage);
    } else {
      checkDnsName(name, stage);
    }
  }

  /** Returns whether a lower-case name is a DNS name by the rules of {@link #check}. */
  public static boolean isDnsName(String name) {
    return DNS_NAME.matcher(name).matches() && !NUMERIC_LAST_LABEL.matcher(name).matches();
  }

  private static void checkDnsName(String name, String stage) {
    if (name.startsWith("*.")) {
      throw new PolicyDeniedException(stage, "wildcard name " + name
          + " is not issued to instances");
    }
    if (!DNS_NAME.matcher(name).matches()) {
      throw invalid(name, "DNS name", "use letters, digits and hyphens in labels of at most 63"
          + " characters, 253 in total", stage);
    }
    if (NUMERIC_LAST_LABEL.matcher(name).matches()) {
      throw invalid(name, "DNS name", "its last label is all digits; write an IP address as"
          + " four numbers from 0 to 255", stage);
    }
  }

  private static void checkEmail(String name, String stage) {
    if (!isPrintableAscii(name)) {
      throw invalid(name, "email address", "use printable ASCII without spaces", stage);
    }
    if (name.length() > MAX_EMAIL_LENGTH) {
      throw invalid(name, "email address", "it has " + name.length()
          + " characters, more than " + MAX_EMAIL_LENGTH, stage);
    }
    int at = name.lastIndexOf('@');
    String localPart = name.substring(0, at);
    String domain = name.substring(at + 1);
    if (localPart.isEmpty() || localPart.length() > MAX_LOCAL_PART_LENGTH) {
      throw invalid(name, "email address", "the part before @ must have 1 to "
          + MAX_LOCAL_PART_LENGTH + " characters", stage);
    }
    if (!DNS_NAME.matcher(domain).matches() || NUMERIC_LAST_LABEL.matcher(domain).matches()) {
      throw invalid(name, "email address", "the part after @ must be a DNS name", stage);
    }
  }

  private static void checkUri(String name, String stage) {
    if (!isPrintableAscii(name)) {
      throw invalid(name, "URI", "use printable ASCII without spaces, percent-encoding"
          + " anything else", stage);
    }
    if (name.length() > MAX_URI_LENGTH) {
      throw invalid(name, "URI", "it has " + name.length() + " characters, more than "
          + MAX_URI_LENGTH, stage);
    }
    URI uri;
    try {
      uri = new URI(name);
    } catch (URISyntaxException e) {
      throw invalid(name, "URI", "it does not parse as RFC 3986 at index " + e.getIndex(),
          stage);
    }
    if (uri.getScheme() == null) {
      throw invalid(name, "URI", "it has no scheme", stage);
    }
  }

  private static boolean isPrintableAscii(String name) {
    return name.chars().allMatch(c -> c > 0x20 && c < 0x7f);
  }

  private static PolicyDeniedException invalid(String name, String type, String rule,
      String stage) {
    return new PolicyDeniedException(stage, "name " + IssuancePolicy.quote(name)
        + " is not a valid " + type + ": " + rule);
  }
}
