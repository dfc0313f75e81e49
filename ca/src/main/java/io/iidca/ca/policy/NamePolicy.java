package io.iidca.ca.policy;

import io.iidca.ca.config.ConfigException;
import io.iidca.ca.error.PolicyDeniedException;
import io.iidca.ca.pki.SubjectNames;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Allow and deny lists of the names a certificate may carry, one pair of lists per name type:
 * DNS names, IP addresses, email addresses and URIs. The CA has one policy and each provisioner
 * has one, and a name must pass both.
 *
 * <p>A name is checked against the lists of its type only, the type that {@link SubjectNames}
 * gives it. A name that matches a deny pattern is denied, whatever the allow list contains. An
 * empty allow list allows every name of its type that no deny pattern matches. A non-empty one
 * allows only the names that match one of its patterns. {@link NamePatterns} describes the
 * pattern forms and how they match.
 *
 * <p>Patterns are kept as written, so a configuration writes back unchanged. The record does
 * not check them: {@link #validate} does, and {@link #check} fails with an {@link
 * IllegalArgumentException} rather than match a name against an invalid pattern. Immutable and
 * thread-safe.
 *
 * @param allowDns DNS name patterns such as {@code *.internal.example.com}
 * @param allowIp IP ranges in CIDR notation, or single addresses
 * @param allowEmail mailboxes, or {@code @example.com} for a whole domain
 * @param allowUri URIs, or prefixes that end in {@code /}
 * @param denyDns DNS name patterns denied even when an allow pattern matches
 * @param denyIp IP ranges denied even when an allow pattern matches
 * @param denyEmail email patterns denied even when an allow pattern matches
 * @param denyUri URI patterns denied even when an allow pattern matches
 */
public record NamePolicy(
    List<String> allowDns,
    List<String> allowIp,
    List<String> allowEmail,
    List<String> allowUri,
    List<String> denyDns,
    List<String> denyIp,
    List<String> denyEmail,
    List<String> denyUri) {

  /** The policy with eight empty lists, which allows every name. */
  public static final NamePolicy NONE = new NamePolicy(List.of(), List.of(), List.of(),
      List.of(), List.of(), List.of(), List.of(), List.of());

  private static final String STAGE = "policy";

  /** A type of name in a certificate, by the subject alternative name that encodes it. */
  public enum NameType {
    DNS("dns", "DNS"),
    IP("ip", "IP"),
    EMAIL("email", "email"),
    URI("uri", "URI");

    private final String key;
    private final String label;

    NameType(String key, String label) {
      this.key = key;
      this.label = label;
    }

    /** Returns the YAML key of this type's lists, such as {@code dns}. */
    public String key() {
      return key;
    }

    /** Returns the type of a name, decided as {@link SubjectNames#toGeneralName} decides it. */
    public static NameType of(String name) {
      if (SubjectNames.isIpAddress(name)) {
        return IP;
      }
      if (name.contains("://")) {
        return URI;
      }
      return name.contains("@") ? EMAIL : DNS;
    }
  }

  /** One of the eight lists. */
  public enum ListName {
    ALLOW_DNS(false, NameType.DNS),
    ALLOW_IP(false, NameType.IP),
    ALLOW_EMAIL(false, NameType.EMAIL),
    ALLOW_URI(false, NameType.URI),
    DENY_DNS(true, NameType.DNS),
    DENY_IP(true, NameType.IP),
    DENY_EMAIL(true, NameType.EMAIL),
    DENY_URI(true, NameType.URI);

    private final boolean deny;
    private final NameType type;

    ListName(boolean deny, NameType type) {
      this.deny = deny;
      this.type = type;
    }

    /** Returns {@code allow} or {@code deny}, the YAML key of this list's section. */
    public String action() {
      return deny ? "deny" : "allow";
    }

    public NameType type() {
      return type;
    }

    /** Returns the dotted YAML key below {@code namePolicy}, such as {@code allow.dns}. */
    public String key() {
      return action() + "." + type.key();
    }

    /** Returns the command-line option that sets this list, without dashes: allow-dns. */
    public String option() {
      return action() + "-" + type.key();
    }

    /** Returns the allow or deny list of a type. */
    public static ListName of(boolean deny, NameType type) {
      for (ListName name : values()) {
        if (name.deny == deny && name.type == type) {
          return name;
        }
      }
      throw new IllegalArgumentException("no list for " + type);
    }
  }

  public NamePolicy {
    allowDns = copy(allowDns);
    allowIp = copy(allowIp);
    allowEmail = copy(allowEmail);
    allowUri = copy(allowUri);
    denyDns = copy(denyDns);
    denyIp = copy(denyIp);
    denyEmail = copy(denyEmail);
    denyUri = copy(denyUri);
  }

  /** Builds a policy from the lists given; lists not given are empty. */
  public static NamePolicy of(Map<ListName, List<String>> lists) {
    Map<ListName, List<String>> all = new EnumMap<>(ListName.class);
    for (ListName name : ListName.values()) {
      all.put(name, lists.getOrDefault(name, List.of()));
    }
    return new NamePolicy(all.get(ListName.ALLOW_DNS), all.get(ListName.ALLOW_IP),
        all.get(ListName.ALLOW_EMAIL), all.get(ListName.ALLOW_URI), all.get(ListName.DENY_DNS),
        all.get(ListName.DENY_IP), all.get(ListName.DENY_EMAIL), all.get(ListName.DENY_URI));
  }

  /** Returns one of the eight lists. */
  public List<String> list(ListName name) {
    return switch (name) {
      case ALLOW_DNS -> allowDns;
      case ALLOW_IP -> allowIp;
      case ALLOW_EMAIL -> allowEmail;
      case ALLOW_URI -> allowUri;
      case DENY_DNS -> denyDns;
      case DENY_IP -> denyIp;
      case DENY_EMAIL -> denyEmail;
      case DENY_URI -> denyUri;
    };
  }

  /** Returns a copy with one list replaced. */
  public NamePolicy with(ListName name, List<String> patterns) {
    Map<ListName, List<String>> lists = new EnumMap<>(ListName.class);
    for (ListName each : ListName.values()) {
      lists.put(each, each == name ? patterns : list(each));
    }
    return of(lists);
  }

  /** Returns whether all eight lists are empty, so that the policy allows every name. */
  public boolean isEmpty() {
    for (ListName name : ListName.values()) {
      if (!list(name).isEmpty()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Checks every pattern's syntax.
   *
   * @param key the YAML key of this policy, such as {@code provisioners[0].namePolicy}
   * @throws ConfigException naming the list, such as {@code namePolicy.allow.ip}, the pattern
   *     and what is wrong with it
   */
  public NamePolicy validate(String key) {
    for (ListName name : ListName.values()) {
      for (String pattern : list(name)) {
        try {
          NamePatterns.check(name.type(), pattern);
        } catch (IllegalArgumentException e) {
          throw new ConfigException(key + "." + name.key(), pattern, e.getMessage());
        }
      }
    }
    return this;
  }

  /**
   * Denies a name that this policy does not allow. The name is compared in the form {@link
   * IssuancePolicy#canonical} gives it.
   *
   * @param scope whose policy this is, as a noun that the message makes possessive, such as
   *     {@code CA} or {@code provisioner}
   * @throws PolicyDeniedException naming the name and the pattern that denies it, or the allow
   *     list that it does not match
   */
  public void check(String name, String scope) {
    String canonical = IssuancePolicy.canonical(name);
    NameType type = NameType.of(canonical);
    for (String pattern : list(ListName.of(true, type))) {
      if (NamePatterns.matches(type, pattern, canonical)) {
        throw new PolicyDeniedException(STAGE, "name " + canonical + " is denied by the "
            + scope + "'s deny list (" + pattern + ")");
      }
    }
    List<String> allowed = list(ListName.of(false, type));
    if (allowed.isEmpty()) {
      return;
    }
    for (String pattern : allowed) {
      if (NamePatterns.matches(type, pattern, canonical)) {
        return;
      }
    }
    throw new PolicyDeniedException(STAGE, "name " + canonical + " matches no pattern in the "
        + scope + "'s " + type.label + " allow list (" + String.join(", ", allowed) + ")");
  }

  /**
   * Returns the non-empty lists as YAML and JSON show them: {@code {allow: {dns: [...]}, deny:
   * {ip: [...]}}}, without empty lists or sections.
   */
  public Map<String, Object> toMap() {
    Map<String, Object> map = new LinkedHashMap<>();
    for (ListName name : ListName.values()) {
      if (!list(name).isEmpty()) {
        @SuppressWarnings("unchecked")
        Map<String, Object> section = (Map<String, Object>) map.computeIfAbsent(name.action(),
            action -> new LinkedHashMap<String, Object>());
        section.put(name.type().key(), list(name));
      }
    }
    return map;
  }

  private static List<String> copy(List<String> patterns) {
    return patterns == null ? List.of() : List.copyOf(patterns);
  }
}
