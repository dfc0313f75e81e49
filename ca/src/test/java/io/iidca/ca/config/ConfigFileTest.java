package io.iidca.ca.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link ConfigFile}: a saved configuration loads back unchanged, and every invalid file stops
 * loading with a {@link ConfigException} that names the key and the value as written.
 */
class ConfigFileTest {

  /** A valid file; each invalid case below changes one thing in it. */
  static final String VALID = """
      name: Test CA
      address: 127.0.0.1:8443
      dnsNames: [ca.local, 127.0.0.1]
      root: certs/root_ca.crt
      crt: certs/intermediate_ca.crt
      key: secrets/intermediate_ca_key
      provisioners:
        - name: aws
          type: AWS
          awsAccounts: ['123456789042']
      """;

  /** A valid file with one GCP provisioner. */
  static final String GCP = VALID.replace("type: AWS\n    awsAccounts: ['123456789042']",
      "type: GCP\n    gcp: {projectIds: [my-project-123]}");

  /** A valid file with one Azure provisioner. */
  static final String AZURE = VALID.replace("type: AWS\n    awsAccounts: ['123456789042']",
      "type: Azure\n    azure: {tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47}");

  @TempDir
  Path directory;

  @Test
  void saveThenLoadKeepsCloudOptions() throws IOException {
    CaConfig base = load(VALID);
    GcpOptions gcp = new GcpOptions(List.of("my-project-123"),
        List.of("1000523393341-compute@developer.gserviceaccount.com", "100177919469981763250"),
        List.of("us-central1-a", "europe-west4"), "http://127.0.0.1:18170/oauth2/v3/certs",
        Duration.ofSeconds(30), true);
    AzureOptions azure = new AzureOptions("72f988bf-86f1-41af-91ab-2d7cd011db47",
        AzureOptions.US_GOVERNMENT_CLOUD, "https://management.usgovcloudapi.net",
        List.of("05e8b285-4ce1-46a3-b4c9-f51ba67d6acc"), List.of("Prod-RG"),
        List.of("0a354780-1a8f-47c3-a94a-37fd8b8417fb"), "https://127.0.0.1:9443/t/openid",
        true, List.of("config/azure-roots/azure.pem"));
    CaConfig config = base.withProvisioner(ProvisionerConfig.gcp("gcp", gcp))
        .withProvisioner(ProvisionerConfig.azure("azure", azure));

    ConfigFile.save(directory, config);
    CaConfig loaded = ConfigFile.load(directory);

    assertThat(loaded).isEqualTo(config);
    assertThat(loaded.provisioner("gcp").orElseThrow().gcp()).isEqualTo(gcp);
    assertThat(loaded.provisioner("azure").orElseThrow().azure()).isEqualTo(azure);
    String yaml = Files.readString(ConfigFile.path(directory));
    assertThat(yaml).doesNotContain("awsAccounts: []");
  }

  @Test
  void loadFillsCloudDefaults() throws IOException {
    ProvisionerConfig gcp = load(GCP).provisioners().get(0);
    ProvisionerConfig azure = load(AZURE.replace("type: Azure", "type: AZURE"))
        .provisioners().get(0);

    assertThat(gcp.type()).isEqualTo("GCP");
    assertThat(gcp.gcp().jwksUrl()).isEqualTo("https://www.googleapis.com/oauth2/v3/certs");
    assertThat(gcp.gcp().leeway()).isEqualTo(Duration.ofSeconds(60));
    assertThat(gcp.gcp().requireKeyBinding()).isFalse();
    assertThat(azure.type()).isEqualTo("Azure");
    assertThat(azure.azure().cloud()).isEqualTo("AzurePublicCloud");
    assertThat(azure.azure().effectiveAudience()).isEqualTo("https://management.azure.com/");
    assertThat(azure.azure().effectiveOpenIdConfigUrl()).isEqualTo(
        "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47"
            + "/.well-known/openid-configuration");
    assertThat(azure.azure().requireAttestation()).isFalse();
  }

  @Test
  void gcpZoneMatchesZoneOrRegion() {
    GcpOptions options = new GcpOptions(List.of("my-project-123"), List.of(),
        List.of("us-central1", "europe-west4-a"), null, null, false);

    assertThat(options.allowsZone("us-central1-a")).isTrue();
    assertThat(options.allowsZone("us-central1-f")).isTrue();
    assertThat(options.allowsZone("europe-west4-a")).isTrue();
    assertThat(options.allowsZone("europe-west4-b")).isFalse();
    assertThat(options.allowsZone("us-central11-a")).isFalse();
    assertThat(options.allowsZone("us-east1-b")).isFalse();
  }

  @Test
  void saveThenLoadKeepsEveryValue() throws IOException {
    CaConfig config = new CaConfig("Test CA", "[::1]:8443", List.of("ca.local", "::1"),
        "certs/root_ca.crt", "certs/intermediate_ca.crt", "secrets/intermediate_ca_key",
        new DbConfig("postgresql", "jdbc:postgresql://127.0.0.1:5432/iidca", "iidca",
            "secrets/db_password"),
        new Lifetime(Duration.ofHours(8), Duration.ofMinutes(10), Duration.ofHours(12)),
        List.of(
            ProvisionerConfig.aws("AWS IID Provisioner", List.of("123456789042")),
            new ProvisionerConfig("strict", "AWS",
                new Lifetime(Duration.ofMinutes(90), Duration.ofMinutes(5), Duration.ofHours(2)),
                true, true, Duration.ofMinutes(30), List.of("012345678901", "111122223333"),
                List.of("rsa2048", "pkcs7"), List.of("config/aws/extra.pem"))));

    ConfigFile.save(directory, config);
    CaConfig loaded = ConfigFile.load(directory);

    assertThat(loaded).isEqualTo(config);
    Path file = ConfigFile.path(directory);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-r--r--");
    byte[] first = Files.readAllBytes(file);
    ConfigFile.save(directory, loaded);
    assertThat(Files.readAllBytes(file)).isEqualTo(first);
  }

  @Test
  void saveThenLoadKeepsSubSecondLifetime() throws IOException {
    CaConfig config = load(VALID).withDb(DbConfig.DEFAULT);
    CaConfig fine = new CaConfig(config.name(), config.address(), config.dnsNames(),
        config.root(), config.crt(), config.key(), config.db(),
        new Lifetime(Duration.ofHours(1), Duration.ofMillis(1500), Duration.ofHours(2)),
        config.provisioners()).validate();

    ConfigFile.save(directory, fine);

    assertThat(ConfigFile.load(directory).lifetime()).isEqualTo(fine.lifetime());
  }

  @Test
  void loadFillsDefaults() throws IOException {
    CaConfig config = load(VALID);

    assertThat(config.db()).isEqualTo(DbConfig.DEFAULT);
    assertThat(config.lifetime()).isEqualTo(Lifetime.DEFAULT);
    ProvisionerConfig provisioner = config.provisioners().get(0);
    assertThat(provisioner.lifetime()).isEqualTo(Lifetime.DEFAULT);
    assertThat(provisioner.awsSignatureForms()).containsExactly("rsa2048", "signature");
    assertThat(provisioner.disableCustomSans()).isFalse();
    assertThat(provisioner.disableTrustOnFirstUse()).isFalse();
    assertThat(provisioner.instanceAge()).isNull();
  }

  /** Returns rows of the case, the file, the key the error names, and the value it quotes. */
  static Stream<Arguments> invalidFiles() {
    return Stream.of(
        row("unknown top-level key", VALID + "nmae: typo\n", "nmae", "'typo'"),
        row("unknown provisioner key",
            VALID.replace("    type: AWS\n", "    type: AWS\n    awsAccount: x\n"),
            "provisioners[0].awsAccount", "'x'"),
        row("unknown db key", VALID + "db: {type: h2, password: x}\n", "db.password", "'x'"),
        row("unknown lifetime key", VALID + "lifetime: {maximum: 2h}\n", "lifetime.maximum",
            "'2h'"),
        row("account of 5 digits", VALID.replace("'123456789042'", "'12345'"),
            "provisioners[0].awsAccounts", "'12345'"),
        row("account with a letter", VALID.replace("'123456789042'", "'12345678904a'"),
            "provisioners[0].awsAccounts", "'12345678904a'"),
        row("no account", VALID.replace("['123456789042']", "[]"),
            "provisioners[0].awsAccounts", "(missing)"),
        row("duplicate provisioner names", VALID + "  - {name: aws, type: AWS,"
            + " awsAccounts: ['111122223333']}\n", "provisioners[1].name", "'aws'"),
        row("lifetime min above max", VALID + "lifetime: {default: 1h, min: 2h, max: 1h}\n",
            "lifetime.min", "'2h'"),
        row("lifetime default above max", VALID + "lifetime: {default: 48h}\n",
            "lifetime.default", "'48h'"),
        row("lifetime default below min", VALID + "lifetime: {default: 1m}\n",
            "lifetime.default", "'1m'"),
        row("lifetime min zero", VALID + "lifetime: {min: 0s}\n", "lifetime.min", "'0s'"),
        row("provisioner lifetime above max", VALID.replace("    type: AWS\n",
            "    type: AWS\n    lifetime: {default: 25h}\n"),
            "provisioners[0].lifetime.default", "'25h'"),
        row("lifetime too large", VALID + "lifetime: {max: 106751991167301d}\n",
            "lifetime.max", "'106751991167301d'"),
        row("lifetime not a duration", VALID + "lifetime: {max: 1 day}\n", "lifetime.max",
            "'1 day'"),
        row("db type mysql", VALID + "db: {type: mysql}\n", "db.type", "'mysql'"),
        row("postgresql without url", VALID + "db: {type: postgresql}\n", "db.url",
            "(missing)"),
        row("db url not JDBC", VALID + "db: {url: 'h2:file:/tmp/x'}\n", "db.url",
            "'h2:file:/tmp/x'"),
        row("missing name", VALID.replace("name: Test CA\n", ""), "name", "(missing)"),
        row("missing root", VALID.replace("root: certs/root_ca.crt\n", ""), "root",
            "(missing)"),
        row("missing key", VALID.replace("key: secrets/intermediate_ca_key\n", ""), "key",
            "(missing)"),
        row("missing dnsNames", VALID.replace("dnsNames: [ca.local, 127.0.0.1]\n", ""),
            "dnsNames", "(missing)"),
        row("dnsNames entry with a space", VALID.replace("[ca.local, 127.0.0.1]",
            "['bad name!', 127.0.0.1]"), "dnsNames", "'bad name!'"),
        row("dnsNames entry with a port", VALID.replace("[ca.local, 127.0.0.1]",
            "['ca.local:8443']"), "dnsNames", "'ca.local:8443'"),
        row("missing address", VALID.replace("address: 127.0.0.1:8443\n", ""), "address",
            "(missing)"),
        row("address without port", VALID.replace("127.0.0.1:8443", "localhost"), "address",
            "'localhost'"),
        row("missing provisioner type", VALID.replace("    type: AWS\n", ""),
            "provisioners[0].type", "(missing)"),
        row("provisioner type oracle", VALID.replace("type: AWS", "type: oracle"),
            "provisioners[0].type", "'oracle'"),
        row("GCP provisioner without gcp options", VALID.replace("type: AWS\n"
            + "    awsAccounts: ['123456789042']", "type: gcp"), "provisioners[0].gcp",
            "(missing)"),
        row("GCP provisioner with AWS accounts", VALID.replace("type: AWS",
            "type: GCP\n    gcp: {projectIds: [my-project-123]}"),
            "provisioners[0].awsAccounts", "123456789042"),
        row("GCP provisioner without project or account", GCP.replace(
            "projectIds: [my-project-123]", "zones: [us-central1]"),
            "provisioners[0].gcp.projectIds", "(missing)"),
        row("GCP project number instead of id", GCP.replace("my-project-123", "'1000523393341'"),
            "provisioners[0].gcp.projectIds", "'1000523393341'"),
        row("GCP zone misspelled", GCP.replace("projectIds:", "zones: [uscentral1a],"
            + " projectIds:"), "provisioners[0].gcp.zones", "'uscentral1a'"),
        row("GCP keys over plain http", GCP.replace("projectIds:",
            "jwksUrl: 'http://keys.example.com/certs', projectIds:"),
            "provisioners[0].gcp.jwksUrl", "'http://keys.example.com/certs'"),
        row("GCP leeway of an hour", GCP.replace("projectIds:", "leeway: 1h, projectIds:"),
            "provisioners[0].gcp.leeway", "'1h'"),
        row("GCP unknown option", GCP.replace("projectIds:", "project: x, projectIds:"),
            "provisioners[0].gcp.project", "'x'"),
        row("GCP restarted instances", GCP.replace("    gcp:",
            "    allowRestartedInstances: true\n    gcp:"),
            "provisioners[0].allowRestartedInstances", "'true'"),
        row("Azure provisioner without tenant", AZURE.replace(
            "tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47", "cloud: AzurePublicCloud"),
            "provisioners[0].azure.tenantId", "(missing)"),
        row("Azure tenant not a GUID", AZURE.replace("72f988bf-86f1-41af-91ab-2d7cd011db47",
            "contoso.onmicrosoft.com"), "provisioners[0].azure.tenantId",
            "'contoso.onmicrosoft.com'"),
        row("Azure cloud unknown", AZURE.replace("tenantId:", "cloud: AzureGermanCloud,"
            + " tenantId:"), "provisioners[0].azure.cloud", "'AzureGermanCloud'"),
        row("Azure subscription not a GUID", AZURE.replace("tenantId:",
            "subscriptionIds: [prod], tenantId:"), "provisioners[0].azure.subscriptionIds",
            "'prod'"),
        row("Azure instance age", AZURE.replace("    azure:", "    instanceAge: 1h\n    azure:"),
            "provisioners[0].instanceAge", "'1h'"),
        row("Azure options on a GCP provisioner", GCP.replace("    gcp:",
            "    azure: {tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47}\n    gcp:"),
            "provisioners[0].azure", "'GCP'"),
        row("missing provisioner name", VALID.replace("  - name: aws\n    type: AWS",
            "  - type: AWS"), "provisioners[0].name", "(missing)"),
        row("provisioner name with #", VALID.replace("name: aws", "name: 'aws#1'"),
            "provisioners[0].name", "'aws#1'"),
        row("signature form dsa", VALID.replace("    type: AWS\n",
            "    type: AWS\n    awsSignatureForms: [dsa]\n"),
            "provisioners[0].awsSignatureForms", "'dsa'"),
        row("disableCustomSans not boolean", VALID.replace("    type: AWS\n",
            "    type: AWS\n    disableCustomSans: 'true'\n"),
            "provisioners[0].disableCustomSans", "'true'"),
        row("instanceAge zero", VALID.replace("    type: AWS\n",
            "    type: AWS\n    instanceAge: 0s\n"), "provisioners[0].instanceAge", "'0s'"),
        row("provisioners not a list", VALID.replaceAll("(?s)provisioners:.*",
            "provisioners: aws\n"), "provisioners", "'aws'"),
        row("provisioner not a mapping", VALID.replaceAll("(?s)provisioners:.*",
            "provisioners: [aws]\n"), "provisioners[0]", "'aws'"),
        row("dnsNames holds a mapping", VALID.replace("[ca.local, 127.0.0.1]",
            "[{a: b}]"), "dnsNames", "'{a=b}'"),
        row("empty DNS name", VALID.replace("[ca.local, 127.0.0.1]", "['']"), "dnsNames",
            "''"),
        row("blank DNS name beside a valid one", VALID.replace("[ca.local, 127.0.0.1]",
            "[ca.local, ' ']"), "dnsNames", "' '"),
        row("unquoted account of 11 digits", VALID.replace("['123456789042']",
            "[01234567012]"), "provisioners[0].awsAccounts", "'01234567012'"),
        row("duration that is a bare number", VALID + "lifetime: {max: 300}\n",
            "lifetime.max", "'300'"),
        row("negative lifetime min", VALID + "lifetime: {min: PT-5M}\n", "lifetime.min",
            "-5"));
  }

  static Arguments row(String name, String yaml, String key, String quotedValue) {
    return Arguments.of(name, yaml, key, quotedValue);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidFiles")
  void loadRejectsInvalidValueNamingKeyAndValue(String name, String yaml, String key,
      String quotedValue) throws IOException {
    write(yaml);

    ConfigException error = catchThrowableOfType(ConfigException.class,
        () -> ConfigFile.load(directory));

    assertThat(error).as("ConfigException for " + name).isNotNull();
    assertThat(error.key()).isEqualTo(key);
    assertThat(error.getMessage()).contains(" for " + key + ": ");
    assertThat(error.getMessage()).contains(quotedValue);
  }

  /** SnakeYAML reads 012345670123 as an octal integer; the error must still show what was typed. */
  @Test
  void unquotedAccountIsKeptAsWritten() throws IOException {
    write(VALID.replace("['123456789042']", "[012345670123]"));

    try {
      assertThat(ConfigFile.load(directory).provisioners().get(0).awsAccounts())
          .containsExactly("012345670123");
    } catch (ConfigException e) {
      assertThat(e.getMessage()).contains("012345670123");
    }
  }

  @Test
  void unquotedDecimalAccountLoads() throws IOException {
    write(VALID.replace("['123456789042']", "[123456789042]"));

    assertThat(ConfigFile.load(directory).provisioners().get(0).awsAccounts())
        .containsExactly("123456789042");
  }

  @Test
  void loadRejectsDuplicateNestedKey() throws IOException {
    write(VALID.replace("    type: AWS\n", "    type: AWS\n    type: AWS\n"));

    assertThatThrownBy(() -> ConfigFile.load(directory))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("duplicate key type");
  }

  @Test
  void loadRejectsDuplicateKey() throws IOException {
    write(VALID + "name: Second Name\n");

    assertThatThrownBy(() -> ConfigFile.load(directory))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("name");
  }

  static Stream<Arguments> notMappings() {
    return Stream.of(
        Arguments.of("list", "- a\n- b\n", "'[a, b]'"),
        Arguments.of("scalar", "hello\n", "'hello'"),
        Arguments.of("empty file", "", "(missing)"),
        Arguments.of("comment only", "# nothing\n", "(missing)"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("notMappings")
  void loadRejectsTopLevelThatIsNotMapping(String name, String yaml, String value)
      throws IOException {
    write(yaml);

    assertThatThrownBy(() -> ConfigFile.load(directory))
        .isInstanceOf(ConfigException.class)
        .hasMessage("invalid value " + value + " for (top level): expected a mapping");
  }

  @Test
  void loadRejectsNonStringKey() throws IOException {
    write(VALID + "1: x\n");

    assertThatThrownBy(() -> ConfigFile.load(directory))
        .isInstanceOf(ConfigException.class)
        .hasMessage("invalid value '1' for (top level): keys must be strings");
  }

  /**
   * Global tags that name Java classes must not construct anything. The URL points at a socket
   * this test listens on, so a constructed class loader that fetched it would leave a pending
   * connection.
   */
  @Test
  void loadRefusesJavaClassTagsWithoutConstructing() throws IOException {
    try (ServerSocketChannel listener = ServerSocketChannel.open()) {
      listener.bind(new InetSocketAddress("127.0.0.1", 0));
      listener.configureBlocking(false);
      String url = "http://127.0.0.1:" + listener.socket().getLocalPort() + "/";
      List<String> documents = List.of(
          "!!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL [\""
              + url + "\"]]]]\n",
          VALID.replace("name: Test CA", "name: !!javax.script.ScriptEngineManager"
              + " [!!java.net.URLClassLoader [[!!java.net.URL [\"" + url + "\"]]]]"),
          VALID.replace("name: Test CA", "name: !!java.io.File [/etc/passwd]"),
          VALID.replace("name: Test CA", "name: !custom Test CA"));

      for (String yaml : documents) {
        write(yaml);
        assertThatThrownBy(() -> ConfigFile.load(directory))
            .as(yaml)
            .isInstanceOf(ConfigException.class)
            .hasMessageStartingWith(ConfigFile.path(directory) + " is not valid YAML: ");
      }
      assertThat(listener.accept()).isNull();
    }
  }

  @Test
  void loadRejectsAliasBomb() throws IOException {
    StringBuilder yaml = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 10; i++) {
      yaml.append("a").append(i).append(": &a").append(i).append(" [");
      for (int j = 0; j < 10; j++) {
        yaml.append(j == 0 ? "" : ", ").append("*a").append(i - 1);
      }
      yaml.append("]\n");
    }
    write(yaml.toString());

    assertThatThrownBy(() -> ConfigFile.load(directory))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("is not valid YAML");
  }

  @Test
  void loadWithoutFileNamesInit() {
    assertThatThrownBy(() -> ConfigFile.load(directory))
        .isInstanceOf(ConfigException.class)
        .hasMessage("no CA configuration at " + ConfigFile.path(directory)
            + ": run iidca init first, or set IIDCA_PATH to the CA's directory");
  }

  @Test
  void saveRefusesInvalidConfigAndWritesNothing() {
    CaConfig invalid = new CaConfig("Test CA", "127.0.0.1:8443", List.of("ca.local"), "r", "c",
        "k", DbConfig.DEFAULT, Lifetime.DEFAULT, List.of(ProvisionerConfig.aws("aws",
            List.of("1"))));

    assertThatThrownBy(() -> ConfigFile.save(directory, invalid))
        .isInstanceOf(ConfigException.class)
        .hasMessage("invalid value '1' for provisioners[0].awsAccounts: an AWS account id is 12"
            + " digits");
    assertThat(ConfigFile.path(directory)).doesNotExist();
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
