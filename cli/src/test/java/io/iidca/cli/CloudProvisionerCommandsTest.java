package io.iidca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iidca.ca.config.AzureOptions;
import io.iidca.ca.config.CaConfig;
import io.iidca.ca.config.ConfigFile;
import io.iidca.ca.config.DbConfig;
import io.iidca.ca.config.GcpOptions;
import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.CaFiles;
import io.iidca.ca.pki.Pem;
import io.iidca.testkit.pki.TestCa;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code iidca provisioner add|update|list} for GCP and Azure provisioners, as typed: the options
 * each type takes, the restrictions list shows, and the usage errors that change nothing.
 */
class CloudProvisionerCommandsTest {

  static final String TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  static final String SUBSCRIPTION = "05e8b285-4ce1-46a3-b4c9-f51ba67d6acc";
  static final String OBJECT_ID = "0a354780-1a8f-47c3-a94a-37fd8b8417fb";

  @TempDir
  Path directory;

  CliRunner cli;

  @BeforeEach
  void writeConfiguration() throws Exception {
    ConfigFile.save(directory, new CaConfig("Test CA", "127.0.0.1:8443", List.of("ca.local"),
        CaFiles.ROOT_CERT, CaFiles.INTERMEDIATE_CERT, CaFiles.INTERMEDIATE_KEY,
        DbConfig.DEFAULT, Lifetime.DEFAULT, List.of()));
    cli = new CliRunner(directory.toString());
  }

  @Test
  void addGcpStoresRestrictions() throws Exception {
    CliRunner.Result add = cli.run("provisioner", "add", "GCP Provisioner", "--type", "gcp",
        "--gcp-project", "my-project-123", "--gcp-project", "other-project-9",
        "--gcp-service-account", "1000523393341-compute@developer.gserviceaccount.com",
        "--gcp-zone", "us-central1", "--gcp-require-key-binding", "--gcp-leeway", "30s",
        "--gcp-jwks-url", "http://127.0.0.1:18170/oauth2/v3/certs", "--instance-age", "1h");

    assertThat(add.status()).as(add.err()).isZero();
    assertThat(add.err()).contains("\u2714 Provisioner: GCP Provisioner (GCP)");
    ProvisionerConfig provisioner = provisioner("GCP Provisioner");
    assertThat(provisioner.type()).isEqualTo("GCP");
    assertThat(provisioner.instanceAge()).isEqualTo(Duration.ofHours(1));
    assertThat(provisioner.awsAccounts()).isEmpty();
    assertThat(provisioner.gcp()).isEqualTo(new GcpOptions(
        List.of("my-project-123", "other-project-9"),
        List.of("1000523393341-compute@developer.gserviceaccount.com"), List.of("us-central1"),
        "http://127.0.0.1:18170/oauth2/v3/certs", Duration.ofSeconds(30), true));
  }

  @Test
  void addAzureStoresRestrictionsAndCopiesRoots() throws Exception {
    TestCa roots = TestCa.create(directory.resolve("emulator-ca"));
    Path rootsFile = directory.resolve("emulator-roots.pem");
    Files.writeString(rootsFile, Pem.encode(roots.root()), StandardCharsets.US_ASCII);

    CliRunner.Result add = cli.run("provisioner", "add", "Azure Prod", "--type", "AZURE",
        "--azure-tenant", TENANT, "--azure-subscription-id", SUBSCRIPTION,
        "--azure-resource-group", "Prod-RG", "--azure-object-id", OBJECT_ID,
        "--azure-cloud", "azureusgovernmentcloud", "--azure-require-attestation",
        "--azure-openid-config-url", "http://127.0.0.1:18171/t/.well-known/openid-configuration",
        "--azure-roots", rootsFile.toString());

    assertThat(add.status()).as(add.err()).isZero();
    ProvisionerConfig provisioner = provisioner("Azure Prod");
    assertThat(provisioner.type()).isEqualTo("Azure");
    assertThat(provisioner.azure()).isEqualTo(new AzureOptions(TENANT,
        AzureOptions.US_GOVERNMENT_CLOUD, null, List.of(SUBSCRIPTION), List.of("Prod-RG"),
        List.of(OBJECT_ID), "http://127.0.0.1:18171/t/.well-known/openid-configuration", true,
        List.of("config/azure-roots/azure-prod.pem")));
    Path copy = directory.resolve("config/azure-roots/azure-prod.pem");
    assertThat(Pem.readCertificates(copy)).containsExactly(roots.root());
  }

  @Test
  void severalAzureProvisionersShareTenant() throws Exception {
    for (String name : List.of("Azure A", "Azure B")) {
      CliRunner.Result add = cli.run("provisioner", "add", name, "--type", "Azure",
          "--azure-tenant", TENANT);
      assertThat(add.status()).as(add.err()).isZero();
    }

    assertThat(config().provisioners()).extracting(ProvisionerConfig::name)
        .containsExactly("Azure A", "Azure B");
  }

  @Test
  void listShowsCloudRestrictions() throws Exception {
    cli.run("provisioner", "add", "G", "--type", "GCP", "--gcp-project", "my-project-123",
        "--gcp-zone", "europe-west4-a");
    cli.run("provisioner", "add", "Z", "--type", "Azure", "--azure-tenant", TENANT,
        "--azure-resource-group", "Prod-RG");

    CliRunner.Result list = cli.run("provisioner", "list");

    assertThat(list.status()).as(list.err()).isZero();
    JsonNode json = new ObjectMapper().readTree(list.out());
    JsonNode gcp = json.get(0);
    assertThat(gcp.get("type").asText()).isEqualTo("GCP");
    assertThat(gcp.get("projectIDs").toString()).isEqualTo("[\"my-project-123\"]");
    assertThat(gcp.get("zones").toString()).isEqualTo("[\"europe-west4-a\"]");
    assertThat(gcp.get("requireKeyBinding").asBoolean()).isFalse();
    assertThat(gcp.get("jwksUrl").asText())
        .isEqualTo("https://www.googleapis.com/oauth2/v3/certs");
    assertThat(gcp.has("accounts")).isFalse();
    JsonNode azure = json.get(1);
    assertThat(azure.get("type").asText()).isEqualTo("Azure");
    assertThat(azure.get("tenantID").asText()).isEqualTo(TENANT);
    assertThat(azure.get("resourceGroups").toString()).isEqualTo("[\"Prod-RG\"]");
    assertThat(azure.get("audience").asText()).isEqualTo("https://management.azure.com/");
    assertThat(azure.get("requireAttestation").asBoolean()).isFalse();
    assertThat(azure.get("openIdConfigUrl").asText()).isEqualTo("https://login.microsoftonline"
        + ".com/" + TENANT + "/.well-known/openid-configuration");
  }

  @Test
  void updateChangesOnlyGivenCloudOptions() throws Exception {
    cli.run("provisioner", "add", "G", "--type", "GCP", "--gcp-project", "my-project-123",
        "--gcp-zone", "us-central1");
    cli.run("provisioner", "add", "Z", "--type", "Azure", "--azure-tenant", TENANT,
        "--azure-resource-group", "Prod-RG");

    CliRunner.Result gcp = cli.run("provisioner", "update", "G", "--gcp-service-account",
        "100177919469981763250", "--gcp-require-key-binding");
    CliRunner.Result azure = cli.run("provisioner", "update", "Z", "--azure-subscription-id",
        SUBSCRIPTION, "--azure-require-attestation");

    assertThat(gcp.status()).as(gcp.err()).isZero();
    assertThat(provisioner("G").gcp()).isEqualTo(new GcpOptions(List.of("my-project-123"),
        List.of("100177919469981763250"), List.of("us-central1"), null, null, true));
    assertThat(azure.status()).as(azure.err()).isZero();
    assertThat(provisioner("Z").azure()).isEqualTo(new AzureOptions(TENANT, null, null,
        List.of(SUBSCRIPTION), List.of("Prod-RG"), List.of(), null, true, List.of()));

    CliRunner.Result off = cli.run("provisioner", "update", "Z",
        "--azure-require-attestation=false");

    assertThat(off.status()).as(off.err()).isZero();
    assertThat(provisioner("Z").azure().requireAttestation()).isFalse();
    assertThat(provisioner("Z").azure().subscriptionIds()).containsExactly(SUBSCRIPTION);
  }

  /** Returns rows of the case, the arguments, and the exact first line of the error. */
  static Stream<Arguments> usageErrors() {
    return Stream.of(
        Arguments.of("unknown type", List.of("provisioner", "add", "X", "--type", "Oracle"),
            "iidca provisioner add: --type Oracle is not supported: use AWS, GCP or Azure"),
        Arguments.of("GCP without project or account", List.of("provisioner", "add", "X",
            "--type", "GCP", "--gcp-zone", "us-central1"),
            "iidca provisioner add: invalid value (missing) for --gcp-project: a GCP"
                + " provisioner needs at least one project (--gcp-project) or service account"
                + " (--gcp-service-account), otherwise every GCP project could enroll"),
        Arguments.of("GCP with an AWS account", List.of("provisioner", "add", "X", "--type",
            "GCP", "--gcp-project", "my-project-123", "--aws-account", "123456789042"),
            "iidca provisioner add: --aws-account applies to AWS provisioners only, and this"
                + " one is GCP"),
        Arguments.of("AWS with a GCP project", List.of("provisioner", "add", "X", "--type",
            "AWS", "--aws-account", "123456789042", "--gcp-project", "my-project-123"),
            "iidca provisioner add: --gcp-project applies to GCP provisioners only, and this"
                + " one is AWS"),
        Arguments.of("GCP project number", List.of("provisioner", "add", "X", "--type", "GCP",
            "--gcp-project", "1000523393341"),
            "iidca provisioner add: invalid value '1000523393341' for --gcp-project: a project"
                + " id is 6 to 30 lowercase letters, digits and hyphens, such as my-project-123"
                + " (not the project number or display name)"),
        Arguments.of("GCP keys over http elsewhere", List.of("provisioner", "add", "X",
            "--type", "GCP", "--gcp-project", "my-project-123", "--gcp-jwks-url",
            "http://keys.example.com/certs"),
            "iidca provisioner add: invalid value 'http://keys.example.com/certs' for"
                + " --gcp-jwks-url: must be an https:// URL, because the keys it serves decide"
                + " which tokens are genuine (http:// is accepted only on loopback, for a"
                + " metadata emulator)"),
        Arguments.of("GCP restarted instances", List.of("provisioner", "add", "X", "--type",
            "GCP", "--gcp-project", "my-project-123", "--allow-restarted-instances"),
            "iidca provisioner add: invalid value 'true' for allowRestartedInstances: only AWS"
                + " documents carry the time of the instance's last start; for GCP reset the"
                + " instance's registration instead (iidca instance reset)"),
        Arguments.of("Azure without tenant", List.of("provisioner", "add", "X", "--type",
            "Azure"),
            "iidca provisioner add: invalid value (missing) for --azure-tenant: an Azure"
                + " provisioner needs the tenant id, a GUID such as"
                + " 72f988bf-86f1-41af-91ab-2d7cd011db47 (--azure-tenant)"),
        Arguments.of("Azure subscription name", List.of("provisioner", "add", "X", "--type",
            "Azure", "--azure-tenant", TENANT, "--azure-subscription-id", "Production"),
            "iidca provisioner add: invalid value 'Production' for --azure-subscription-id: a"
                + " subscription id is a GUID"),
        Arguments.of("Azure instance age", List.of("provisioner", "add", "X", "--type",
            "Azure", "--azure-tenant", TENANT, "--instance-age", "1h"),
            "iidca provisioner add: invalid value '1h' for instanceAge: Azure tokens and"
                + " attested documents carry no creation time of the VM"),
        Arguments.of("Azure roots missing", List.of("provisioner", "add", "X", "--type",
            "Azure", "--azure-tenant", TENANT, "--azure-roots", "/nonexistent/roots.pem"),
            "iidca provisioner add: --azure-roots /nonexistent/roots.pem: file not found"),
        Arguments.of("update of GCP with an Azure option", List.of("provisioner", "update",
            "G", "--azure-tenant", TENANT),
            "iidca provisioner update: --azure-tenant applies to Azure provisioners only, and"
                + " this one is GCP"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("usageErrors")
  void usageErrorsExitTwoAndChangeNothing(String label, List<String> args, String message)
      throws Exception {
    CliRunner.Result setup = cli.run("provisioner", "add", "G", "--type", "GCP",
        "--gcp-project", "my-project-123");
    assertThat(setup.status()).as(setup.err()).isZero();
    byte[] before = Files.readAllBytes(ConfigFile.path(directory));

    CliRunner.Result result = cli.run(args.toArray(String[]::new));

    assertThat(result.status()).as(result.err()).isEqualTo(2);
    assertThat(result.err().lines().findFirst()).contains(message);
    assertThat(Files.readAllBytes(ConfigFile.path(directory))).isEqualTo(before);
    assertThat(directory.resolve("config/azure-roots")).doesNotExist();
  }

  private CaConfig config() throws Exception {
    return ConfigFile.load(directory);
  }

  private ProvisionerConfig provisioner(String name) throws Exception {
    return config().provisioner(name).orElseThrow();
  }
}
