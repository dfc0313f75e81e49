package io.iidca.ca.config;

import io.iidca.ca.pki.SubjectNames;
import io.iidca.ca.policy.NamePolicy;
import io.iidca.ca.policy.NameSyntax;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The CA's configuration, {@code config/ca.yaml} under the iidca path. Paths are relative to
 * the iidca path. Immutable; edits return a new instance.
 *
 * @param dnsNames names and IP addresses that the CA's TLS certificate carries and that token
 *     audiences may use
 * @param crlUrl URL of the CRL that issued certificates name as their distribution point, or
 *     null for none
 * @param ocspUrl URL of the OCSP responder that issued certificates name, or null for none
 * @param namePolicy allow and deny lists for the names of every certificate, which apply beside
 *     each provisioner's; {@link NamePolicy#NONE} when null
 */
public record CaConfig(
    String name,
    String address,
    List<String> dnsNames,
    String root,
    String crt,
    String key,
    DbConfig db,
    Lifetime lifetime,
    List<ProvisionerConfig> provisioners,
    String crlUrl,
    String ocspUrl,
    NamePolicy namePolicy) {

  public CaConfig {
    dnsNames = List.copyOf(dnsNames);
    provisioners = List.copyOf(provisioners);
    namePolicy = namePolicy == null ? NamePolicy.NONE : namePolicy;
  }

  /** A configuration without a CA-level name policy. */
  public CaConfig(String name, String address, List<String> dnsNames, String root, String crt,
      String key, DbConfig db, Lifetime lifetime, List<ProvisionerConfig> provisioners,
      String crlUrl, String ocspUrl) {
    this(name, address, dnsNames, root, crt, key, db, lifetime, provisioners, crlUrl, ocspUrl,
        NamePolicy.NONE);
  }

  /**
   * A configuration whose certificates name no CRL or OCSP responder, without a CA-level name
   * policy.
   */
  public CaConfig(String name, String address, List<String> dnsNames, String root, String crt,
      String key, DbConfig db, Lifetime lifetime, List<ProvisionerConfig> provisioners) {
    this(name, address, dnsNames, root, crt, key, db, lifetime, provisioners, null, null,
        NamePolicy.NONE);
  }

  /**
   * Validates every value.
   *
   * @throws ConfigException naming the first key whose value is invalid
   */
  public CaConfig validate() {
    if (name == null || name.isBlank()) {
      throw new ConfigException("name", name, "the CA needs a name");
    }
    try {
      ListenAddress.parse(address == null ? "" : address);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("address", address, e.getMessage());
    }
    if (dnsNames.isEmpty()) {
      throw new ConfigException("dnsNames", null, "name at least one DNS name or IP address");
    }
    for (String dnsName : dnsNames) {
      if (dnsName == null || dnsName.isBlank()) {
        throw new ConfigException("dnsNames", dnsName == null ? "" : dnsName,
            "a DNS name or IP address must not be empty; remove the empty entry");
      }
      if (!SubjectNames.isIpAddress(dnsName)
          && !NameSyntax.isDnsName(dnsName.toLowerCase(Locale.ROOT))) {
        throw new ConfigException("dnsNames", dnsName, "it is neither a DNS name nor"
            + " an IP address; give a name of letters, digits, hyphens and dots, such as"
            + " ca.example.com, or an address such as 10.0.0.5");
      }
    }
    for (String key : List.of("root", "crt", "key")) {
      String value = switch (key) {
        case "root" -> root;
        case "crt" -> crt;
        default -> this.key;
      };
      if (value == null || value.isBlank()) {
        throw new ConfigException(key, value, "a path is required");
      }
    }
    if (db == null || lifetime == null) {
      throw new ConfigException(db == null ? "db" : "lifetime", null, "is required");
    }
    db.validate("db");
    for (String[] url : new String[][] {{"crlUrl", crlUrl}, {"ocspUrl", ocspUrl}}) {
      if (url[1] != null && !url[1].matches("https?://[^\\s]+")) {
        throw new ConfigException(url[0], url[1], "must be an http:// or https:// URL");
      }
    }
    lifetime.validate("lifetime");
    namePolicy.validate("namePolicy");
    Set<String> names = new HashSet<>();
    for (int i = 0; i < provisioners.size(); i++) {
      ProvisionerConfig provisioner = provisioners.get(i).validate("provisioners[" + i + "]");
      if (!names.add(provisioner.name())) {
        throw new ConfigException("provisioners[" + i + "].name", provisioner.name(),
            "another provisioner already has this name");
      }
    }
    return this;
  }

  public Optional<ProvisionerConfig> provisioner(String provisionerName) {
    return provisioners.stream().filter(p -> p.name().equals(provisionerName)).findFirst();
  }

  /** Returns a copy with the provisioner added; fails if one of that name exists. */
  public CaConfig withProvisioner(ProvisionerConfig provisioner) {
    if (provisioner(provisioner.name()).isPresent()) {
      throw new ConfigException("provisioner '" + provisioner.name()
          + "' already exists: remove it first with iidca provisioner remove");
    }
    List<ProvisionerConfig> list = new ArrayList<>(provisioners);
    list.add(provisioner);
    return new CaConfig(name, address, dnsNames, root, crt, key, db, lifetime, list, crlUrl,
        ocspUrl, namePolicy).validate();
  }

  /**
   * Returns a copy with the provisioner of the same name replaced, in its place in the list;
   * fails if there is none.
   */
  public CaConfig withProvisionerReplaced(ProvisionerConfig provisioner) {
    if (provisioner(provisioner.name()).isEmpty()) {
      throw new ConfigException("provisioner '" + provisioner.name() + "' not found; "
          + "iidca provisioner list shows the configured ones");
    }
    List<ProvisionerConfig> list = new ArrayList<>(provisioners);
    list.replaceAll(p -> p.name().equals(provisioner.name()) ? provisioner : p);
    return new CaConfig(name, address, dnsNames, root, crt, key, db, lifetime, list, crlUrl,
        ocspUrl, namePolicy).validate();
  }

  /** Returns a copy without the named provisioner; fails if there is none. */
  public CaConfig withoutProvisioner(String provisionerName) {
    if (provisioner(provisionerName).isEmpty()) {
      throw new ConfigException("provisioner '" + provisionerName + "' not found; "
          + "iidca provisioner list shows the configured ones");
    }
    List<ProvisionerConfig> list = new ArrayList<>(provisioners);
    list.removeIf(p -> p.name().equals(provisionerName));
    return new CaConfig(name, address, dnsNames, root, crt, key, db, lifetime, list, crlUrl,
        ocspUrl, namePolicy);
  }

  /**
   * Returns a copy with the provisioners and the CA-level name policy of {@code other}, and
   * every other setting of this one, validated.
   */
  public CaConfig withProvisionersOf(CaConfig other) {
    return new CaConfig(name, address, dnsNames, root, crt, key, db, lifetime,
        other.provisioners, crlUrl, ocspUrl, other.namePolicy).validate();
  }

  /**
   * Returns the keys of the settings, other than the provisioners and the name policy, whose
   * values differ in {@code other}: those a running CA applies only when it starts again.
   */
  public List<String> settingsDifferingFrom(CaConfig other) {
    List<String> keys = new ArrayList<>();
    Object[][] pairs = {
        {"name", name, other.name}, {"address", address, other.address},
        {"dnsNames", dnsNames, other.dnsNames}, {"root", root, other.root},
        {"crt", crt, other.crt}, {"key", key, other.key}, {"db", db, other.db},
        {"lifetime", lifetime, other.lifetime}, {"crlUrl", crlUrl, other.crlUrl},
        {"ocspUrl", ocspUrl, other.ocspUrl}};
    for (Object[] pair : pairs) {
      if (!Objects.equals(pair[1], pair[2])) {
        keys.add((String) pair[0]);
      }
    }
    return List.copyOf(keys);
  }

  public CaConfig withAddress(String newAddress) {
    return new CaConfig(name, newAddress, dnsNames, root, crt, key, db, lifetime, provisioners,
        crlUrl, ocspUrl, namePolicy).validate();
  }

  public CaConfig withDb(DbConfig newDb) {
    return new CaConfig(name, address, dnsNames, root, crt, key, newDb, lifetime, provisioners,
        crlUrl, ocspUrl, namePolicy).validate();
  }
}
