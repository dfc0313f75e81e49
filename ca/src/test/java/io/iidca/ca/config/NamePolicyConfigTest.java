package io.iidca.ca.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.iidca.ca.policy.NamePolicy;
import io.iidca.ca.policy.NamePolicy.ListName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@code namePolicy} sections of {@code config/ca.yaml}, at the top level and in each
 * provisioner: they load, save back unchanged, are written only when non-empty, and every
 * unknown key or invalid pattern stops loading with the key and the value named.
 */
class NamePolicyConfigTest {

  static final String BASE = """
      name: Test CA
      address: 127.0.0.1:8443
      dnsNames: [ca.local]
      root: certs/root_ca.crt
      crt: certs/intermediate_ca.crt
      key: secrets/intermediate_ca_key
      """;

  static final String PROVISIONER = """
      provisioners:
        - name: aws
          type: AWS
          awsAccounts: ['123456789042']
      """;

  /** Both policies as an operator writes them by hand; the patterns need quotes in YAML. */
  static final String WITH_POLICIES = BASE + """
      namePolicy:
        allow:
          dns: ['.example.com', '*.ec2.internal']
        deny:
          ip: [10.9.0.0/16]
      provisioners:
        - name: aws
          type: AWS
          awsAccounts: ['123456789042']
          namePolicy:
            allow:
              dns: ['*.internal.example.com']
              ip: [10.0.0.0/8, 'fd00::/8']
              email: ['@example.com']
              uri: ['spiffe://example.org/ns/']
            deny:
              dns: [db.internal.example.com]
              email: [root@example.com]
              uri: ['spiffe://example.org/ns/admin']
      """;

  @TempDir
  Path directory;

  @Test
  void handWrittenPoliciesLoad() throws IOException {
    CaConfig config = load(WITH_POLICIES);

    assertThat(config.namePolicy()).isEqualTo(NamePolicy.of(Map.of(
        ListName.ALLOW_DNS, List.of(".example.com", "*.ec2.internal"),
        ListName.DENY_IP, List.of("10.9.0.0/16"))));
    assertThat(config.provisioners().get(0).namePolicy()).isEqualTo(new NamePolicy(
        List.of("*.internal.example.com"), List.of("10.0.0.0/8", "fd00::/8"),
        List.of("@example.com"), List.of("spiffe://example.org/ns/"),
        List.of("db.internal.example.com"), List.of(), List.of("root@example.com"),
        List.of("spiffe://example.org/ns/admin")));
  }

  @Test
  void saveThenLoadKeepsBothPolicies() throws IOException {
    CaConfig config = load(WITH_POLICIES);

    ConfigFile.save(directory, config);
    byte[] first = Files.readAllBytes(ConfigFile.path(directory));
    CaConfig loaded = ConfigFile.load(directory);
    ConfigFile.save(directory, loaded);

    assertThat(loaded).isEqualTo(config);
    assertThat(Files.readAllBytes(ConfigFile.path(directory))).isEqualTo(first);
  }

  @Test
  void emptyPoliciesAreNotWritten() throws IOException {
    CaConfig config = load(BASE + PROVISIONER);

    ConfigFile.save(directory, config);

    assertThat(config.namePolicy()).isEqualTo(NamePolicy.NONE);
    assertThat(config.provisioners().get(0).namePolicy()).isEqualTo(NamePolicy.NONE);
    assertThat(Files.readString(ConfigFile.path(directory))).doesNotContain("namePolicy");
  }

  @Test
  void onlyNonEmptyListsAreWritten() throws IOException {
    CaConfig config = load(WITH_POLICIES);

    ConfigFile.save(directory, config);
    String yaml = Files.readString(ConfigFile.path(directory));

    assertThat(yaml).contains("""
        namePolicy:
          allow:
            dns:
            - .example.com
            - '*.ec2.internal'
          deny:
            ip:
            - 10.9.0.0/16
        """);
  }

  @Test
  void emptySectionsLoadAsNoPolicy() throws IOException {
    CaConfig config = load(BASE + "namePolicy: {allow: {dns: []}, deny: {}}\n" + PROVISIONER);

    assertThat(config.namePolicy()).isEqualTo(NamePolicy.NONE);
  }

  @Test
  void editsKeepTheCaPolicy() throws IOException {
    CaConfig config = load(WITH_POLICIES);

    CaConfig added = config.withProvisioner(ProvisionerConfig.aws("second",
        List.of("111122223333")));
    CaConfig moved = added.withAddress("127.0.0.1:9443").withDb(DbConfig.DEFAULT);
    CaConfig removed = moved.withoutProvisioner("second");

    assertThat(added.namePolicy()).isEqualTo(config.namePolicy());
    assertThat(moved.namePolicy()).isEqualTo(config.namePolicy());
    assertThat(removed.namePolicy()).isEqualTo(config.namePolicy());
  }

  @Test
  void replacingProvisionerKeepsItsPlace() throws IOException {
    CaConfig config = load(BASE + PROVISIONER).withProvisioner(ProvisionerConfig.aws("second",
        List.of("111122223333")));
    ProvisionerConfig first = config.provisioners().get(0);
    ProvisionerConfig changed = new ProvisionerConfig(first.name(), first.type(),
        first.lifetime(), first.disableCustomSans(), first.disableTrustOnFirstUse(),
        first.instanceAge(), first.awsAccounts(), first.awsSignatureForms(),
        first.awsCertificates(), first.disableRenewal(), first.allowRenewalAfterExpiry(),
        first.reattestAfter(), first.allowRestartedInstances(),
        NamePolicy.NONE.with(ListName.ALLOW_IP, List.of("10.0.0.0/8")));

    CaConfig replaced = config.withProvisionerReplaced(changed);

    assertThat(replaced.provisioners()).extracting(ProvisionerConfig::name)
        .containsExactly("aws", "second");
    assertThat(replaced.provisioners().get(0)).isEqualTo(changed);
    assertThat(replaced.provisioners().get(1)).isEqualTo(config.provisioners().get(1));
  }

  @Test
  void replacingUnknownProvisionerFails() throws IOException {
    CaConfig config = load(BASE + PROVISIONER);

    ConfigException error = catchThrowableOfType(ConfigException.class,
        () -> config.withProvisionerReplaced(ProvisionerConfig.aws("nope",
            List.of("111122223333"))));

    assertThat(error).hasMessage("provisioner 'nope' not found; iidca provisioner list shows"
        + " the configured ones");
  }

  @Test
  void oldConstructorsHaveNoPolicy() {
    ProvisionerConfig provisioner = new ProvisionerConfig("p", "AWS", Lifetime.DEFAULT, false,
        false, null, List.of("123456789042"), ProvisionerConfig.DEFAULT_AWS_FORMS, List.of(),
        false, false, null, false);
    CaConfig config = new CaConfig("CA", ":443", List.of("ca.local"), "r", "c", "k",
        DbConfig.DEFAULT, Lifetime.DEFAULT, List.of(provisioner), null, null);

    assertThat(provisioner.namePolicy()).isEqualTo(NamePolicy.NONE);
    assertThat(config.namePolicy()).isEqualTo(NamePolicy.NONE);
  }

  /** Returns rows of the case, the file, the key the error names, and the exact message. */
  static Stream<Arguments> invalidFiles() {
    return Stream.of(
        row("unknown section at the top level",
            BASE + "namePolicy: {allwo: {dns: [a.example]}}\n" + PROVISIONER,
            "namePolicy.allwo", "invalid value '{dns=[a.example]}' for namePolicy.allwo:"
                + " unknown key; known keys here are [allow, deny]"),
        row("unknown type in a provisioner", WITH_POLICIES.replace("email: [root@example.com]",
            "cidr: [10.0.0.0/8]"), "provisioners[0].namePolicy.deny.cidr",
            "invalid value '[10.0.0.0/8]' for provisioners[0].namePolicy.deny.cidr: unknown"
                + " key; known keys here are [dns, email, ip, uri]"),
        row("bad CIDR in a provisioner", WITH_POLICIES.replace("10.0.0.0/8,", "10.0.0.0/33,"),
            "provisioners[0].namePolicy.allow.ip", "invalid value '10.0.0.0/33' for"
                + " provisioners[0].namePolicy.allow.ip: the prefix length after / must be a"
                + " number from 0 to 32"),
        row("wildcard not at the left at the top level",
            WITH_POLICIES.replace("'*.ec2.internal'", "'ec2.*.internal'"),
            "namePolicy.allow.dns", "invalid value 'ec2.*.internal' for namePolicy.allow.dns:"
                + " a wildcard must be the whole leftmost label, as in *.example.com (RFC 6125,"
                + " 6.4.3)"),
        row("list that is a scalar", BASE + "namePolicy: {deny: {ip: 10.0.0.0/8}}\n"
            + PROVISIONER, "namePolicy.deny.ip",
            "invalid value '10.0.0.0/8' for namePolicy.deny.ip: expected a list"),
        row("policy that is a list", BASE + "namePolicy: [a]\n" + PROVISIONER, "namePolicy",
            "invalid value '[a]' for namePolicy: expected a mapping"),
        row("section that is a list", BASE + "namePolicy: {allow: [a]}\n" + PROVISIONER,
            "namePolicy.allow", "invalid value '[a]' for namePolicy.allow: expected a mapping"),
        row("pattern that is a mapping", BASE + "namePolicy: {allow: {uri: [{a: b}]}}\n"
            + PROVISIONER, "namePolicy.allow.uri",
            "invalid value '{a=b}' for namePolicy.allow.uri: expected a string"));
  }

  static Arguments row(String name, String yaml, String key, String message) {
    return Arguments.of(name, yaml, key, message);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidFiles")
  void loadRejectsInvalidPolicyNamingKey(String name, String yaml, String key, String message)
      throws IOException {
    write(yaml);

    ConfigException error = catchThrowableOfType(ConfigException.class,
        () -> ConfigFile.load(directory));

    assertThat(error).as("ConfigException for " + name).isNotNull();
    assertThat(error.key()).isEqualTo(key);
    assertThat(error.getMessage()).isEqualTo(message);
  }

  private CaConfig load(String yaml) throws IOException {
    write(yaml);
    return ConfigFile.load(directory);
  }

  private void write(String yaml) throws IOException {
    Path file = ConfigFile.path(directory);
    Files.createDirectories(file.getParent());
    Files.writeString(file, yaml, StandardCharsets.UTF_8);
  }
}
