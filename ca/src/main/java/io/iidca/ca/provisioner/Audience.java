package io.iidca.ca.provisioner;

import io.iidca.ca.pki.Fingerprints;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.util.IPAddress;

/**
 * A token audience in step-ca's form, {@code https://HOST[:PORT]/1.0/sign#TYPE/NAME}: the CA's
 * sign URL, and in the fragment the provisioner type and name.
 *
 * <p>step's client builds the audience with {@code url.URL.String()} of Go's {@code net/url}
 * ({@code generateSignAudience} in smallstep/certificates), which percent-encodes a space or
 * {@code %} in the fragment ({@code AWS%20IID%20Provisioner}, {@code 100%25}). iidca's client
 * writes the name verbatim except for {@code %}, which {@link #of} encodes as {@code %25}.
 * {@link #parse} therefore decodes every valid {@code %XX} escape (UTF-8) and keeps any other
 * {@code %} verbatim, so both forms name the same provisioner and no audience text makes it
 * throw.
 *
 * <p>iidca adds one optional query parameter, {@code ?spki=DIGEST}, that binds a token to the
 * key of the certificate request: the unpadded base64url (RFC 4648, 5) SHA-256 of the key's DER
 * SubjectPublicKeyInfo. A GCP identity token is a bearer token that anything on the instance can
 * request, so the binding stops a token copied in flight from enrolling a different key. A URL
 * with user information, or with any other query, is not a sign URL and does not parse.
 * Immutable.
 *
 * @param spki the key digest from the {@code spki} query parameter, or null without one
 */
public record Audience(String host, String path, String type, String provisionerName,
    String spki) {

  private static final List<String> SIGN_PATHS = List.of("/1.0/sign", "/sign");
  /** The only query a sign URL may carry: 43 base64url characters are 32 bytes unpadded. */
  private static final Pattern SPKI_QUERY = Pattern.compile("spki=([A-Za-z0-9_-]{43})");

  /** Creates an audience without a key binding. */
  public Audience(String host, String path, String type, String provisionerName) {
    this(host, path, type, provisionerName, null);
  }

  /**
   * Parses an audience; empty when it has no {@code TYPE/NAME} fragment, no HTTPS URL, or a URL
   * with user information or a query other than one well-formed {@code spki} parameter.
   */
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
    if (!"https".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null
        || uri.getRawUserInfo() != null) {
      return Optional.empty();
    }
    String spki = null;
    if (uri.getRawQuery() != null) {
      Matcher query = SPKI_QUERY.matcher(uri.getRawQuery());
      if (!query.matches()) {
        return Optional.empty();
      }
      spki = query.group(1);
    }
    String host = uri.getHost().toLowerCase(Locale.ROOT);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return Optional.of(new Audience(host, uri.getPath(),
        fragment.substring(0, slash).toLowerCase(Locale.ROOT),
        percentDecode(fragment.substring(slash + 1)), spki));
  }

  /**
   * Returns whether the URL part names this CA's sign endpoint under one of its DNS names or
   * addresses. IP addresses compare by value, so {@code [0:0:0:0:0:0:0:1]} matches {@code ::1}.
   * The port is not compared, so that a CA behind a load balancer or a port mapping accepts
   * the URL its clients use, as step-ca does.
   */
  public boolean isSignUrlOf(List<String> dnsNames) {
    if (!SIGN_PATHS.contains(path)) {
      return false;
    }
    String canonicalHost = canonical(host);
    for (String name : dnsNames) {
      if (canonical(name).equals(canonicalHost)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Builds the audience that clients put in their tokens. The name is written verbatim, except
   * that {@code %} becomes {@code %25} so that {@link #parse} returns the name unchanged.
   */
  public static String of(String caUrl, String type, String provisionerName) {
    String base = caUrl.endsWith("/") ? caUrl.substring(0, caUrl.length() - 1) : caUrl;
    return base + "/1.0/sign#" + type + "/" + provisionerName.replace("%", "%25");
  }

  /**
   * Builds an audience bound to a key: {@link #of} with {@code ?spki=} and the key's
   * {@link #spkiDigest} before the fragment.
   */
  public static String bound(String caUrl, String type, String provisionerName, PublicKey key) {
    String unbound = of(caUrl, type, provisionerName);
    int hash = unbound.indexOf('#');
    return unbound.substring(0, hash) + "?spki=" + spkiDigest(key) + unbound.substring(hash);
  }

  /**
   * Returns the unpadded base64url SHA-256 of the key's DER SubjectPublicKeyInfo, the value of
   * the {@code spki} parameter.
   */
  public static String spkiDigest(PublicKey key) {
    return Base64.getUrlEncoder().withoutPadding()
        .encodeToString(Fingerprints.sha256(key.getEncoded()));
  }

  /** Lower-cases a DNS name; writes an IP literal in Java's one text form for its value. */
  private static String canonical(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    if (!IPAddress.isValid(lower)) {
      return lower;
    }
    try {
      // A literal is converted, never resolved.
      return InetAddress.getByName(lower).getHostAddress();
    } catch (UnknownHostException e) {
      return lower;
    }
  }

  /**
   * Decodes each {@code %XX} escape to its byte and reads the bytes as UTF-8; a {@code %} not
   * followed by two hex digits stays as written.
   */
  private static String percentDecode(String text) {
    if (text.indexOf('%') < 0) {
      return text;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int i = 0;
    while (i < text.length()) {
      if (text.charAt(i) == '%' && isHexPair(text, i + 1)) {
        bytes.write(HexFormat.fromHexDigits(text, i + 1, i + 3));
        i += 3;
      } else {
        int codePoint = text.codePointAt(i);
        bytes.writeBytes(new String(Character.toChars(codePoint))
            .getBytes(StandardCharsets.UTF_8));
        i += Character.charCount(codePoint);
      }
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  private static boolean isHexPair(String text, int start) {
    return start + 2 <= text.length()
        && HexFormat.isHexDigit(text.charAt(start))
        && HexFormat.isHexDigit(text.charAt(start + 1));
  }
}
