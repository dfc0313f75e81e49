package io.iidca.ca.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.iidca.ca.config.ConfigException;
import io.iidca.ca.error.PolicyDeniedException;
import io.iidca.ca.policy.NamePolicy.ListName;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link NamePolicy}: which names each pattern form matches, that deny wins and empty lists
 * allow, the exact denial messages, and the exact error for each invalid pattern.
 */
class NamePolicyTest {

  // ---- matching: one allow pattern, one name ----

  /** Returns rows of the list, the pattern, the name, and whether the pattern matches. */
  static Stream<Arguments> matches() {
    return Stream.of(
        // DNS: an exact name, a wildcard of one label (RFC 6125, 6.4.3), a suffix of any depth
        row(ListName.ALLOW_DNS, "*.a.com", "a.com", false),
        row(ListName.ALLOW_DNS, "*.a.com", "b.a.com", true),
        row(ListName.ALLOW_DNS, "*.a.com", "c.b.a.com", false),
        row(ListName.ALLOW_DNS, "*.a.com", "x.A.COM", true),
        row(ListName.ALLOW_DNS, "*.a.com", "ba.com", false),
        row(ListName.ALLOW_DNS, "*.A.Com", "b.a.com", true),
        row(ListName.ALLOW_DNS, "a.com", "a.com", true),
        row(ListName.ALLOW_DNS, "a.com", "b.a.com", false),
        row(ListName.ALLOW_DNS, "A.COM", "a.com", true),
        row(ListName.ALLOW_DNS, ".a.com", "b.a.com", true),
        row(ListName.ALLOW_DNS, ".a.com", "c.b.a.com", true),
        row(ListName.ALLOW_DNS, ".a.com", "a.com", false),
        row(ListName.ALLOW_DNS, ".a.com", "xa.com", false),
        row(ListName.ALLOW_DNS, "*.compute.internal",
            "ip-10-0-0-1.eu-west-1.compute.internal", false),
        row(ListName.ALLOW_DNS, ".compute.internal",
            "ip-10-0-0-1.eu-west-1.compute.internal", true),
        // IP: CIDR ranges by value; one address is a /32 or /128
        row(ListName.ALLOW_IP, "10.0.0.0/8", "10.255.255.255", true),
        row(ListName.ALLOW_IP, "10.0.0.0/8", "10.0.0.0", true),
        row(ListName.ALLOW_IP, "10.0.0.0/8", "11.0.0.0", false),
        row(ListName.ALLOW_IP, "10.0.0.0/8", "9.255.255.255", false),
        row(ListName.ALLOW_IP, "10.0.0.0/9", "10.127.255.255", true),
        row(ListName.ALLOW_IP, "10.0.0.0/9", "10.128.0.0", false),
        row(ListName.ALLOW_IP, "10.0.0.5", "10.0.0.5", true),
        row(ListName.ALLOW_IP, "10.0.0.5", "10.0.0.6", false),
        row(ListName.ALLOW_IP, "10.0.0.5/32", "010.000.000.005", true),
        row(ListName.ALLOW_IP, "::1/128", "::1", true),
        row(ListName.ALLOW_IP, "::1/128", "0:0:0:0:0:0:0:1", true),
        row(ListName.ALLOW_IP, "::1/128", "::2", false),
        row(ListName.ALLOW_IP, "::1", "0:0:0:0:0:0:0:1", true),
        row(ListName.ALLOW_IP, "fd00::/8", "FD12:3456::1", true),
        row(ListName.ALLOW_IP, "fd00::/8", "fe00::1", false),
        row(ListName.ALLOW_IP, "2001:db8::/33", "2001:db8:7fff::1", true),
        row(ListName.ALLOW_IP, "2001:db8::/33", "2001:db8:8000::1", false),
        // an IPv4-mapped IPv6 address is its IPv4 address, in names and in patterns
        row(ListName.ALLOW_IP, "10.0.0.0/8", "::ffff:10.1.2.3", true),
        row(ListName.ALLOW_IP, "::/0", "::ffff:10.1.2.3", false),
        row(ListName.ALLOW_IP, "::ffff:10.0.0.0/104", "10.2.3.4", true),
        row(ListName.ALLOW_IP, "::ffff:10.0.0.0/104", "11.2.3.4", false),
        // a /0 covers one address family
        row(ListName.ALLOW_IP, "0.0.0.0/0", "192.0.2.1", true),
        row(ListName.ALLOW_IP, "0.0.0.0/0", "2001:db8::1", false),
        row(ListName.ALLOW_IP, "::/0", "2001:db8::1", true),
        row(ListName.ALLOW_IP, "::/0", "192.0.2.1", false),
        // email: a mailbox, or a whole domain without its subdomains
        row(ListName.ALLOW_EMAIL, "ops@example.com", "ops@example.com", true),
        row(ListName.ALLOW_EMAIL, "ops@example.com", "OPS@Example.COM", true),
        row(ListName.ALLOW_EMAIL, "ops@example.com", "dev@example.com", false),
        row(ListName.ALLOW_EMAIL, "@example.com", "dev@example.com", true),
        row(ListName.ALLOW_EMAIL, "@Example.COM", "dev@example.com", true),
        row(ListName.ALLOW_EMAIL, "@example.com", "dev@sub.example.com", false),
        row(ListName.ALLOW_EMAIL, "@example.com", "dev@example.org", false),
        row(ListName.ALLOW_EMAIL, "@example.com", "\"a@b\"@example.com", true),
        // URI: exact after RFC 3986 normalization, or a prefix that ends in /
        row(ListName.ALLOW_URI, "spiffe://example.org/app", "spiffe://example.org/app", true),
        row(ListName.ALLOW_URI, "spiffe://example.org/app", "spiffe://example.org/app/x",
            false),
        row(ListName.ALLOW_URI, "spiffe://example.org/app", "SPIFFE://EXAMPLE.ORG/app", true),
        row(ListName.ALLOW_URI, "spiffe://example.org/app", "spiffe://example.org/App", false),
        row(ListName.ALLOW_URI, "spiffe://example.org/app", "spiffe://example.org/%61pp", true),
        row(ListName.ALLOW_URI, "spiffe://example.org/ns/", "spiffe://example.org/ns/a", true),
        row(ListName.ALLOW_URI, "spiffe://example.org/ns/", "spiffe://example.org/ns/", true),
        row(ListName.ALLOW_URI, "spiffe://example.org/ns/", "spiffe://example.org/ns", false),
        row(ListName.ALLOW_URI, "spiffe://example.org/ns/", "spiffe://example.org/nsx/a",
            false),
        row(ListName.ALLOW_URI, "spiffe://example.org/ns/",
            "spiffe://example.org/ns/a/../../admin", false),
        row(ListName.ALLOW_URI, "spiffe://example.org/ns/",
            "spiffe://example.org/ns/%2E%2E/admin", false),
        row(ListName.ALLOW_URI, "https://example.com/admin", "https://EXAMPLE.com:443/./admin",
            true),
        row(ListName.ALLOW_URI, "https://example.com/admin", "https://example.com./admin",
            true),
        row(ListName.ALLOW_URI, "https://example.com/admin", "https://example.com:8443/admin",
            false),
        row(ListName.ALLOW_URI, "https://example.com/", "https://example.com", true),
        row(ListName.ALLOW_URI, "https://example.com/", "https://example.com.evil.org/",
            false),
        row(ListName.ALLOW_URI, "https://example.com/", "https://example.com@evil.org/",
            false));
  }

  @ParameterizedTest(name = "{0} {1} vs {2}: {3}")
  @MethodSource("matches")
  void patternMatchesName(ListName list, String pattern, String name, boolean matches) {
    NamePolicy policy = NamePolicy.NONE.with(list, List.of(pattern)).validate("namePolicy");

    if (matches) {
      assertThatCode(() -> policy.check(name, "CA")).doesNotThrowAnyException();
    } else {
      assertThatThrownBy(() -> policy.check(name, "CA"))
          .isInstanceOf(PolicyDeniedException.class);
    }
  }

  @ParameterizedTest(name = "deny {0} {1} vs {2}: {3}")
  @MethodSource("matches")
  void denyPatternMatchesAsAllowPatternDoes(ListName allowList, String pattern, String name,
      boolean matches) {
    ListName denyList = ListName.of(true, allowList.type());
    NamePolicy policy = NamePolicy.NONE.with(denyList, List.of(pattern));

    if (matches) {
      assertThatThrownBy(() -> policy.check(name, "CA"))
          .isInstanceOf(PolicyDeniedException.class);
    } else {
      assertThatCode(() -> policy.check(name, "CA")).doesNotThrowAnyException();
    }
  }

  // ---- decisions and messages ----

  static final NamePolicy INTERNAL = NamePolicy.of(Map.of(
      ListName.ALLOW_DNS, List.of("*.internal.example.com", ".svc.example.com"),
      ListName.DENY_DNS, List.of("db.internal.example.com"),
      ListName.ALLOW_IP, List.of("10.0.0.0/8"),
      ListName.DENY_IP, List.of("10.9.0.0/16"),
      ListName.ALLOW_EMAIL, List.of("@example.com"),
      ListName.DENY_URI, List.of("spiffe://example.org/admin/")));

  /** Returns rows of the case, the policy, the name, and the exact message, or null. */
  static Stream<Arguments> decisions() {
    NamePolicy wildcardDeny = NamePolicy.NONE.with(ListName.DENY_DNS, List.of("*.example.com"));
    return Stream.of(
        decision("allowed DNS name", INTERNAL, "app.internal.example.com", null),
        decision("allowed by the suffix form", INTERNAL, "a.b.svc.example.com", null),
        decision("deny wins over allow", INTERNAL, "db.internal.example.com",
            "policy: name db.internal.example.com is denied by the provisioner's deny list"
                + " (db.internal.example.com)"),
        decision("deny compares case-insensitively", INTERNAL, "DB.Internal.Example.COM",
            "policy: name db.internal.example.com is denied by the provisioner's deny list"
                + " (db.internal.example.com)"),
        decision("DNS name outside the allow list", INTERNAL, "app.other.com",
            "policy: name app.other.com matches no pattern in the provisioner's DNS allow list"
                + " (*.internal.example.com, .svc.example.com)"),
        decision("wildcard deny", wildcardDeny, "db.example.com",
            "policy: name db.example.com is denied by the provisioner's deny list"
                + " (*.example.com)"),
        decision("wildcard deny spares a deeper name", wildcardDeny, "a.db.example.com", null),
        decision("allowed IP", INTERNAL, "10.1.2.3", null),
        decision("IP in a denied range of an allowed one", INTERNAL, "10.9.0.1",
            "policy: name 10.9.0.1 is denied by the provisioner's deny list (10.9.0.0/16)"),
        decision("IP outside the allow list", INTERNAL, "192.168.0.1",
            "policy: name 192.168.0.1 matches no pattern in the provisioner's IP allow list"
                + " (10.0.0.0/8)"),
        decision("IPv4-mapped IPv6 in the denied range", INTERNAL, "::ffff:10.9.0.1",
            "policy: name 10.9.0.1 is denied by the provisioner's deny list (10.9.0.0/16)"),
        decision("IPv6 outside the IP allow list", INTERNAL, "fd00::1",
            "policy: name fd00:0:0:0:0:0:0:1 matches no pattern in the provisioner's IP allow"
                + " list (10.0.0.0/8)"),
        decision("email of the allowed domain", INTERNAL, "ops@example.com", null),
        decision("email of another domain", INTERNAL, "ops@example.org",
            "policy: name ops@example.org matches no pattern in the provisioner's email allow"
                + " list (@example.com)"),
        decision("URI with an empty allow list", INTERNAL, "spiffe://example.org/app", null),
        decision("URI under a denied prefix", INTERNAL, "spiffe://example.org/admin/x",
            "policy: name spiffe://example.org/admin/x is denied by the provisioner's deny"
                + " list (spiffe://example.org/admin/)"),
        decision("empty policy allows a DNS name", NamePolicy.NONE, "anything.example", null),
        decision("empty policy allows an IP", NamePolicy.NONE, "2001:db8::1", null),
        decision("empty policy allows an email", NamePolicy.NONE, "a@b.example", null),
        decision("empty policy allows a URI", NamePolicy.NONE, "https://b.example/", null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("decisions")
  void checkDecidesWithExactMessage(String label, NamePolicy policy, String name,
      String message) {
    PolicyDeniedException denial = catchThrowableOfType(PolicyDeniedException.class,
        () -> policy.check(name, "provisioner"));

    if (message == null) {
      assertThat(denial).isNull();
    } else {
      assertThat(denial).isNotNull();
      assertThat(denial.getMessage()).isEqualTo(message);
      assertThat(denial.status()).isEqualTo(403);
    }
  }

  @Test
  void allowListLeavesOtherTypesOpen() {
    NamePolicy policy = NamePolicy.NONE.with(ListName.ALLOW_DNS, List.of("*.a.com"));

    assertThatCode(() -> policy.check("10.0.0.1", "CA")).doesNotThrowAnyException();
    assertThatCode(() -> policy.check("ops@example.org", "CA")).doesNotThrowAnyException();
    assertThatCode(() -> policy.check("spiffe://x.example/y", "CA"))
        .doesNotThrowAnyException();
  }

  @Test
  void invalidPatternFailsInsteadOfMatching() {
    NamePolicy policy = NamePolicy.NONE.with(ListName.DENY_IP, List.of("10.0.0.0/33"));

    assertThatThrownBy(() -> policy.check("10.0.0.1", "CA"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("0 to 32");
  }

  // ---- validation ----

  /** Returns rows of the list, the invalid pattern, and the problem that the error names. */
  static Stream<Arguments> invalidPatterns() {
    String wildcard = "a wildcard must be the whole leftmost label, as in *.example.com"
        + " (RFC 6125, 6.4.3)";
    String notDns = "not a DNS name: write host.example.com, *.example.com or .example.com,"
        + " with letters, digits and hyphens in labels of at most 63 characters";
    String notIp = "not an IP address or CIDR range: write one such as 10.0.0.0/8, fd00::/8 or"
        + " 10.0.0.5";
    return Stream.of(
        invalid(ListName.ALLOW_DNS, "a.*.com", wildcard),
        invalid(ListName.ALLOW_DNS, "*a.com", wildcard),
        invalid(ListName.ALLOW_DNS, "*.*.a.com", wildcard),
        invalid(ListName.DENY_DNS, "*", wildcard),
        invalid(ListName.ALLOW_DNS, "bad_name.com", notDns),
        invalid(ListName.ALLOW_DNS, "a.com.", notDns),
        invalid(ListName.ALLOW_DNS, "", "a pattern must not be empty"),
        invalid(ListName.ALLOW_DNS, "10.0.0.1", "an IP address belongs in the ip list"),
        invalid(ListName.ALLOW_DNS, "ops@example.com",
            "an email address belongs in the email list"),
        invalid(ListName.ALLOW_IP, "10.0.0.0/33",
            "the prefix length after / must be a number from 0 to 32"),
        invalid(ListName.ALLOW_IP, "10.0.0.0/-1",
            "the prefix length after / must be a number from 0 to 32"),
        invalid(ListName.ALLOW_IP, "10.0.0.0/",
            "the prefix length after / must be a number from 0 to 32"),
        invalid(ListName.DENY_IP, "::1/129",
            "the prefix length after / must be a number from 0 to 128"),
        invalid(ListName.ALLOW_IP, "10.0.0.1/8",
            "bits after the prefix are set: the range is 10.0.0.0/8"),
        invalid(ListName.ALLOW_IP, "fd00::1/8",
            "bits after the prefix are set: the range is fd00:0:0:0:0:0:0:0/8"),
        invalid(ListName.ALLOW_IP, "10.0.0/8", notIp),
        invalid(ListName.ALLOW_IP, "example.com", notIp),
        invalid(ListName.ALLOW_IP, "10.0.0.0/8/8",
            "the prefix length after / must be a number from 0 to 32"),
        invalid(ListName.ALLOW_IP, "::ffff:10.0.0.0/64", "an IPv4-mapped IPv6 range needs a"
            + " prefix length of 96 or more: write the IPv4 range instead"),
        invalid(ListName.ALLOW_EMAIL, "example.com", "write a mailbox such as ops@example.com,"
            + " or @example.com for every mailbox of a domain"),
        invalid(ListName.ALLOW_EMAIL, "*@example.com",
            "write @example.com for every mailbox of the domain"),
        invalid(ListName.DENY_EMAIL, "ops@", "the part after @ must be a DNS name"),
        invalid(ListName.ALLOW_URI, "example.org/ns/", "write a URI with a scheme, such as"
            + " spiffe://example.org/app, or a prefix that ends in /, such as"
            + " spiffe://example.org/ns/"),
        invalid(ListName.DENY_URI, "spiffe://exa mple.org/",
            "use printable ASCII without spaces, percent-encoding anything else"));
  }

  /** A valid pattern of each type, listed before the invalid one. */
  static final Map<NamePolicy.NameType, String> VALID = Map.of(
      NamePolicy.NameType.DNS, "*.ok.example", NamePolicy.NameType.IP, "10.0.0.0/8",
      NamePolicy.NameType.EMAIL, "@ok.example", NamePolicy.NameType.URI, "spiffe://ok.example/");

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("invalidPatterns")
  void validateNamesListAndPattern(ListName list, String pattern, String problem) {
    NamePolicy policy = NamePolicy.NONE.with(list, List.of(VALID.get(list.type()), pattern));

    ConfigException error = catchThrowableOfType(ConfigException.class,
        () -> policy.validate("provisioners[0].namePolicy"));

    assertThat(error).isNotNull();
    assertThat(error.key()).isEqualTo("provisioners[0].namePolicy." + list.key());
    assertThat(error.getMessage()).isEqualTo("invalid value '" + pattern + "' for "
        + "provisioners[0].namePolicy." + list.key() + ": " + problem);
  }

  // ---- structure ----

  @Test
  void toMapShowsOnlyNonEmptyLists() {
    NamePolicy policy = NamePolicy.NONE.with(ListName.DENY_IP, List.of("10.9.0.0/16"))
        .with(ListName.ALLOW_DNS, List.of("*.a.com"));

    assertThat(policy.toMap()).isEqualTo(Map.of("allow", Map.of("dns", List.of("*.a.com")),
        "deny", Map.of("ip", List.of("10.9.0.0/16"))));
    assertThat(NamePolicy.NONE.toMap()).isEmpty();
  }

  @Test
  void emptinessAndListsByName() {
    NamePolicy policy = NamePolicy.NONE.with(ListName.DENY_URI, List.of("https://a.example/"));

    assertThat(NamePolicy.NONE.isEmpty()).isTrue();
    assertThat(policy.isEmpty()).isFalse();
    assertThat(policy.denyUri()).containsExactly("https://a.example/");
    assertThat(policy.list(ListName.DENY_URI)).containsExactly("https://a.example/");
    assertThat(policy.with(ListName.DENY_URI, List.of())).isEqualTo(NamePolicy.NONE);
    assertThat(new NamePolicy(null, null, null, null, null, null, null, null))
        .isEqualTo(NamePolicy.NONE);
  }

  @Test
  void listNamesGiveKeysAndOptions() {
    assertThat(ListName.ALLOW_DNS.key()).isEqualTo("allow.dns");
    assertThat(ListName.DENY_EMAIL.key()).isEqualTo("deny.email");
    assertThat(ListName.DENY_URI.option()).isEqualTo("deny-uri");
    assertThat(ListName.ALLOW_IP.option()).isEqualTo("allow-ip");
  }

  private static Arguments row(ListName list, String pattern, String name, boolean matches) {
    return Arguments.of(list, pattern, name, matches);
  }

  private static Arguments decision(String label, NamePolicy policy, String name,
      String message) {
    return Arguments.of(label, policy, name, message);
  }

  private static Arguments invalid(ListName list, String pattern, String problem) {
    return Arguments.of(list, pattern, problem);
  }
}
