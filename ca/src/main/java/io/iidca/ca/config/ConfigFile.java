package io.iidca.ca.config;

import io.iidca.ca.io.AtomicFiles;
import io.iidca.ca.policy.NamePolicy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.AbstractConstruct;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads and writes {@code config/ca.yaml}. Loading validates every value and rejects unknown
 * and duplicate keys, so a typo stops start-up with a message naming the key instead of being
 * ignored. Unquoted numbers are read as the text written: YAML 1.1 reads {@code 012345670123}
 * as an octal integer, but as an AWS account id it means those twelve digits.
 */
public final class ConfigFile {

  private static final Set<String> TOP_KEYS = Set.of("name", "address", "dnsNames", "root",
      "crt", "key", "db", "lifetime", "provisioners", "crlUrl", "ocspUrl", "namePolicy");
  private static final Set<String> PROVISIONER_KEYS = Set.of("name", "type", "lifetime",
      "disableCustomSans", "disableTrustOnFirstUse", "instanceAge", "awsAccounts",
      "awsSignatureForms", "awsCertificates", "disableRenewal", "allowRenewalAfterExpiry",
      "reattestAfter", "allowRestartedInstances", "namePolicy", "gcp", "azure");
  private static final Set<String> GCP_KEYS = Set.of("projectIds", "serviceAccounts", "zones",
      "jwksUrl", "leeway", "requireKeyBinding");
  private static final Set<String> AZURE_KEYS = Set.of("tenantId", "cloud", "audience",
      "subscriptionIds", "resourceGroups", "objectIds", "openIdConfigUrl", "requireAttestation",
      "roots");
  private static final Set<String> DB_KEYS = Set.of("type", "url", "user", "passwordFile");
  private static final Set<String> LIFETIME_KEYS = Set.of("default", "min", "max");
  private static final Set<String> NAME_POLICY_KEYS = Set.of("allow", "deny");
  private static final Set<String> NAME_TYPE_KEYS = Set.of("dns", "ip", "email", "uri");

  private ConfigFile() {}

  public static Path path(Path iidcaPath) {
    return iidcaPath.resolve("config").resolve("ca.yaml");
  }

  /**
   * Loads and validates the configuration.
   *
   * @throws ConfigException if the file is missing, is not YAML, or holds an invalid value
   */
  public static CaConfig load(Path iidcaPath) throws IOException {
    Path file = path(iidcaPath);
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigException("no CA configuration at " + file
          + ": run iidca init first, or set IIDCA_PATH to the CA's directory");
    }
    Object root;
    try {
      LoaderOptions options = new LoaderOptions();
      options.setAllowDuplicateKeys(false);
      root = new Yaml(new NumbersAsWritten(options)).load(text);
    } catch (YAMLException e) {
      throw new ConfigException(file + " is not valid YAML: " + e.getMessage());
    }
    return fromMap(asMap(root, "(top level)")).validate();
  }

  /** Validates and writes the configuration atomically. */
  public static void save(Path iidcaPath, CaConfig config) throws IOException {
    config.validate();
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    options.setIndent(2);
    options.setIndicatorIndent(0);
    options.setWidth(100);
    String yaml = "# iidca CA configuration. Edit with iidca provisioner add|update|remove, or by"
        + " hand;\n"
        + "# a running CA reads it at start-up.\n" + new Yaml(options).dump(toMap(config));
    AtomicFiles.write(path(iidcaPath), yaml.getBytes(StandardCharsets.UTF_8),
        AtomicFiles.PUBLIC);
  }

  static CaConfig fromMap(Map<String, Object> map) {
    checkKeys(map, TOP_KEYS, "");
    List<ProvisionerConfig> provisioners = new ArrayList<>();
    List<Object> list = list(map.get("provisioners"), "provisioners");
    for (int i = 0; i < list.size(); i++) {
      provisioners.add(provisioner(asMap(list.get(i), "provisioners[" + i + "]"),
          "provisioners[" + i + "]"));
    }
    return new CaConfig(
        string(map, "name", ""),
        string(map, "address", ""),
        strings(map.get("dnsNames"), "dnsNames"),
        string(map, "root", ""),
        string(map, "crt", ""),
        string(map, "key", ""),
        db(map.get("db")),
        lifetime(map.get("lifetime"), "lifetime", Lifetime.DEFAULT),
        provisioners,
        string(map, "crlUrl", ""),
        string(map, "ocspUrl", ""),
        namePolicy(map.get("namePolicy"), "namePolicy"));
  }

  private static ProvisionerConfig provisioner(Map<String, Object> map, String key) {
    checkKeys(map, PROVISIONER_KEYS, key + ".");
    String type = string(map, "type", key + ".");
    if (type != null) {
      try {
        type = ProvisionerConfig.normalizeType(type);
      } catch (ConfigException e) {
        throw new ConfigException(key + ".type", type, "supported types are "
            + ProvisionerConfig.TYPES);
      }
    }
    Object age = map.get("instanceAge");
    Object reattest = map.get("reattestAfter");
    return new ProvisionerConfig(
        string(map, "name", key + "."),
        type,
        lifetime(map.get("lifetime"), key + ".lifetime", Lifetime.DEFAULT),
        bool(map, "disableCustomSans", key + "."),
        bool(map, "disableTrustOnFirstUse", key + "."),
        age == null ? null : duration(age, key + ".instanceAge"),
        strings(map.get("awsAccounts"), key + ".awsAccounts"),
        map.containsKey("awsSignatureForms")
            ? strings(map.get("awsSignatureForms"), key + ".awsSignatureForms")
            : ProvisionerConfig.DEFAULT_AWS_FORMS,
        strings(map.get("awsCertificates"), key + ".awsCertificates"),
        bool(map, "disableRenewal", key + "."),
        bool(map, "allowRenewalAfterExpiry", key + "."),
        reattest == null ? null : duration(reattest, key + ".reattestAfter"),
        bool(map, "allowRestartedInstances", key + "."),
        namePolicy(map.get("namePolicy"), key + ".namePolicy"),
        gcp(map.get("gcp"), key + ".gcp"),
        azure(map.get("azure"), key + ".azure"));
  }

  private static GcpOptions gcp(Object value, String key) {
    if (value == null) {
      return null;
    }
    Map<String, Object> map = asMap(value, key);
    checkKeys(map, GCP_KEYS, key + ".");
    Object leeway = map.get("leeway");
    return new GcpOptions(
        strings(map.get("projectIds"), key + ".projectIds"),
        strings(map.get("serviceAccounts"), key + ".serviceAccounts"),
        strings(map.get("zones"), key + ".zones"),
        string(map, "jwksUrl", key + "."),
        leeway == null ? null : duration(leeway, key + ".leeway"),
        bool(map, "requireKeyBinding", key + "."));
  }

  private static AzureOptions azure(Object value, String key) {
    if (value == null) {
      return null;
    }
    Map<String, Object> map = asMap(value, key);
    checkKeys(map, AZURE_KEYS, key + ".");
    return new AzureOptions(
        string(map, "tenantId", key + "."),
        string(map, "cloud", key + "."),
        string(map, "audience", key + "."),
        strings(map.get("subscriptionIds"), key + ".subscriptionIds"),
        strings(map.get("resourceGroups"), key + ".resourceGroups"),
        strings(map.get("objectIds"), key + ".objectIds"),
        string(map, "openIdConfigUrl", key + "."),
        bool(map, "requireAttestation", key + "."),
        strings(map.get("roots"), key + ".roots"));
  }

  /** Reads {@code {allow: {dns: [...], ip: [...], ...}, deny: {...}}}; absent means none. */
  private static NamePolicy namePolicy(Object value, String key) {
    if (value == null) {
      return NamePolicy.NONE;
    }
    Map<String, Object> map = asMap(value, key);
    checkKeys(map, NAME_POLICY_KEYS, key + ".");
    Map<NamePolicy.ListName, List<String>> lists = new EnumMap<>(NamePolicy.ListName.class);
    for (NamePolicy.ListName name : NamePolicy.ListName.values()) {
      Object section = map.get(name.action());
      if (section == null) {
        continue;
      }
      Map<String, Object> types = asMap(section, key + "." + name.action());
      checkKeys(types, NAME_TYPE_KEYS, key + "." + name.action() + ".");
      lists.put(name, strings(types.get(name.type().key()), key + "." + name.key()));
    }
    return NamePolicy.of(lists);
  }

  private static DbConfig db(Object value) {
    if (value == null) {
      return DbConfig.DEFAULT;
    }
    Map<String, Object> map = asMap(value, "db");
    checkKeys(map, DB_KEYS, "db.");
    String type = string(map, "type", "db.");
    return new DbConfig(type == null ? "h2" : type, string(map, "url", "db."),
        string(map, "user", "db."), string(map, "passwordFile", "db."));
  }

  private static Lifetime lifetime(Object value, String key, Lifetime fallback) {
    if (value == null) {
      return fallback;
    }
    Map<String, Object> map = asMap(value, key);
    checkKeys(map, LIFETIME_KEYS, key + ".");
    return new Lifetime(
        map.containsKey("default") ? duration(map.get("default"), key + ".default")
            : fallback.defaultDuration(),
        map.containsKey("min") ? duration(map.get("min"), key + ".min") : fallback.min(),
        map.containsKey("max") ? duration(map.get("max"), key + ".max") : fallback.max());
  }

  static Map<String, Object> toMap(CaConfig config) {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("name", config.name());
    map.put("address", config.address());
    map.put("dnsNames", config.dnsNames());
    map.put("root", config.root());
    map.put("crt", config.crt());
    map.put("key", config.key());
    Map<String, Object> db = new LinkedHashMap<>();
    db.put("type", config.db().type());
    putIfPresent(db, "url", config.db().url());
    putIfPresent(db, "user", config.db().user());
    putIfPresent(db, "passwordFile", config.db().passwordFile());
    map.put("db", db);
    map.put("lifetime", lifetimeMap(config.lifetime()));
    putIfPresent(map, "crlUrl", config.crlUrl());
    putIfPresent(map, "ocspUrl", config.ocspUrl());
    if (!config.namePolicy().isEmpty()) {
      map.put("namePolicy", config.namePolicy().toMap());
    }
    List<Map<String, Object>> provisioners = new ArrayList<>();
    for (ProvisionerConfig provisioner : config.provisioners()) {
      provisioners.add(provisionerMap(provisioner));
    }
    map.put("provisioners", provisioners);
    return map;
  }

  private static Map<String, Object> provisionerMap(ProvisionerConfig provisioner) {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("name", provisioner.name());
    map.put("type", provisioner.type());
    if (provisioner.isAws()) {
      map.put("awsAccounts", provisioner.awsAccounts());
      map.put("awsSignatureForms", provisioner.awsSignatureForms());
      if (!provisioner.awsCertificates().isEmpty()) {
        map.put("awsCertificates", provisioner.awsCertificates());
      }
    }
    if (provisioner.gcp() != null) {
      map.put("gcp", gcpMap(provisioner.gcp()));
    }
    if (provisioner.azure() != null) {
      map.put("azure", azureMap(provisioner.azure()));
    }
    map.put("disableCustomSans", provisioner.disableCustomSans());
    map.put("disableTrustOnFirstUse", provisioner.disableTrustOnFirstUse());
    if (provisioner.instanceAge() != null) {
      map.put("instanceAge", Durations.format(provisioner.instanceAge()));
    }
    map.put("disableRenewal", provisioner.disableRenewal());
    map.put("allowRenewalAfterExpiry", provisioner.allowRenewalAfterExpiry());
    if (provisioner.reattestAfter() != null) {
      map.put("reattestAfter", Durations.format(provisioner.reattestAfter()));
    }
    map.put("allowRestartedInstances", provisioner.allowRestartedInstances());
    if (!provisioner.namePolicy().isEmpty()) {
      map.put("namePolicy", provisioner.namePolicy().toMap());
    }
    map.put("lifetime", lifetimeMap(provisioner.lifetime()));
    return map;
  }

  private static Map<String, Object> gcpMap(GcpOptions gcp) {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("projectIds", gcp.projectIds());
    map.put("serviceAccounts", gcp.serviceAccounts());
    map.put("zones", gcp.zones());
    map.put("jwksUrl", gcp.jwksUrl());
    map.put("leeway", Durations.format(gcp.leeway()));
    map.put("requireKeyBinding", gcp.requireKeyBinding());
    return map;
  }

  private static Map<String, Object> azureMap(AzureOptions azure) {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("tenantId", azure.tenantId());
    map.put("cloud", azure.cloud());
    putIfPresent(map, "audience", azure.audience());
    map.put("subscriptionIds", azure.subscriptionIds());
    map.put("resourceGroups", azure.resourceGroups());
    map.put("objectIds", azure.objectIds());
    putIfPresent(map, "openIdConfigUrl", azure.openIdConfigUrl());
    map.put("requireAttestation", azure.requireAttestation());
    if (!azure.roots().isEmpty()) {
      map.put("roots", azure.roots());
    }
    return map;
  }

  private static Map<String, Object> lifetimeMap(Lifetime lifetime) {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("default", Durations.format(lifetime.defaultDuration()));
    map.put("min", Durations.format(lifetime.min()));
    map.put("max", Durations.format(lifetime.max()));
    return map;
  }

  private static void putIfPresent(Map<String, Object> map, String key, Object value) {
    if (value != null) {
      map.put(key, value);
    }
  }

  private static void checkKeys(Map<String, Object> map, Set<String> known, String prefix) {
    Set<String> unknown = new TreeSet<>(map.keySet());
    unknown.removeAll(known);
    if (!unknown.isEmpty()) {
      String first = unknown.iterator().next();
      throw new ConfigException(prefix + first, map.get(first),
          "unknown key; known keys here are " + new TreeSet<>(known));
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object value, String key) {
    if (value instanceof Map<?, ?> map) {
      for (Object k : map.keySet()) {
        if (!(k instanceof String)) {
          throw new ConfigException(key, k, "keys must be strings");
        }
      }
      return (Map<String, Object>) map;
    }
    throw new ConfigException(key, value, "expected a mapping");
  }

  private static List<Object> list(Object value, String key) {
    if (value == null) {
      return List.of();
    }
    if (value instanceof List<?> items) {
      return new ArrayList<>(items);
    }
    throw new ConfigException(key, value, "expected a list");
  }

  private static List<String> strings(Object value, String key) {
    List<String> result = new ArrayList<>();
    for (Object item : list(value, key)) {
      if (!(item instanceof String) && !(item instanceof WrittenNumber)
          && !(item instanceof Number)) {
        throw new ConfigException(key, item, "expected a string");
      }
      result.add(item.toString());
    }
    return result;
  }

  private static String string(Map<String, Object> map, String key, String prefix) {
    Object value = map.get(key);
    if (value == null) {
      return null;
    }
    if (value instanceof String || value instanceof WrittenNumber
        || value instanceof Number) {
      return value.toString();
    }
    throw new ConfigException(prefix + key, value, "expected a string");
  }

  private static boolean bool(Map<String, Object> map, String key, String prefix) {
    Object value = map.get(key);
    if (value == null) {
      return false;
    }
    if (value instanceof Boolean b) {
      return b;
    }
    throw new ConfigException(prefix + key, value, "expected true or false");
  }

  /** A YAML integer or float as its scalar text, such as {@code 012345670123}. */
  private record WrittenNumber(String text) {

    @Override
    public String toString() {
      return text;
    }
  }

  /**
   * A safe constructor that builds YAML integers and floats as {@link WrittenNumber}, so that
   * no value is changed by a numeric reading that the configuration never wants.
   */
  private static final class NumbersAsWritten extends SafeConstructor {

    NumbersAsWritten(LoaderOptions options) {
      super(options);
      AbstractConstruct asWritten = new AbstractConstruct() {
        @Override
        public Object construct(Node node) {
          return new WrittenNumber(((ScalarNode) node).getValue());
        }
      };
      yamlConstructors.put(Tag.INT, asWritten);
      yamlConstructors.put(Tag.FLOAT, asWritten);
    }
  }

  private static Duration duration(Object value, String key) {
    try {
      return Durations.parse(value.toString());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(key, value, e.getMessage());
    }
  }
}
