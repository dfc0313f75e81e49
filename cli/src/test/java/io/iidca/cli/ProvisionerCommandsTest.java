package io.iidca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iidca.ca.config.CaConfig;
import io.iidca.ca.config.ConfigFile;
import io.iidca.ca.config.DbConfig;
import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.CaFiles;
import io.iidca.ca.policy.NamePolicy;
import io.iidca.ca.policy.NamePolicy.ListName;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code iidca provisioner add|update|list} with name policies, and {@code init} with the CA's
 * name policy, as typed: each command's exit status, message and the configuration it leaves.
 */
class ProvisionerCommandsTest {

  static final String ACCOUNT = "123456789042";
  static final String OTHER_ACCOUNT = "111122223333";

  @TempDir
  Path directory;

  CliRunner cli;

  /** Writes a CA configuration as init does, without keys, which these commands do not read. */
  @BeforeEach
  void writeConfiguration() throws Exception {
    ConfigFile.save(directory, new CaConfig("Test CA", "127.0.0.1:8443", List.of("ca.local"),
        CaFiles.ROOT_CERT, CaFiles.INTERMEDIATE_CERT, CaFiles.INTERMEDIATE_KEY,
        DbConfig.DEFAULT, Lifetime.DEFAULT, List.of()));
    cli = new CliRunner(directory.toString());
  }

  @Test
  void addStoresEveryList() throws Exception {
    CliRunner.Result add = cli.run("provisioner", "add", "P", "--type", "AWS",
        "--aws-account", ACCOUNT, "--allow-dns", "*.internal.example.com", "--allow-dns",
        "*.ec2.internal", "--deny-dns", "db.internal.example.com", "--allow-ip", "10.0.0.0/8",
        "--deny-ip", "10.9.0.0/16", "--allow-email", "@example.com", "--deny-email",
        "root@example.com", "--allow-uri", "spiffe://example.org/ns/", "--deny-uri",
        "spiffe://example.org/ns/admin");

    assertThat(add.status()).as(add.err()).isZero();
    assertThat(provisioner("P").namePolicy()).isEqualTo(new NamePolicy(
        List.of("*.internal.example.com", "*.ec2.internal"), List.of("10.0.0.0/8"),
        List.of("@example.com"), List.of("spiffe://example.org/ns/"),
        List.of("db.internal.example.com"), List.of("10.9.0.0/16"),
        List.of("root@example.com"), List.of("spiffe://example.org/ns/admin")));
  }

  @Test
  void addWithoutListsHasNoPolicy() throws Exception {
    CliRunner.Result add = cli.run("provisioner", "add", "P", "--type", "AWS",
        "--aws-account", ACCOUNT);

    assertThat(add.status()).as(add.err()).isZero();
    assertThat(provisioner("P").namePolicy()).isEqualTo(NamePolicy.NONE);
    assertThat(Files.readString(ConfigFile.path(directory))).doesNotContain("namePolicy");
  }

  @Test
  void listShowsLists() throws Exception {
    cli.run("provisioner", "add", "P", "--type", "AWS", "--aws-account", ACCOUNT,
        "--allow-dns", "*.internal.example.com", "--deny-ip", "10.9.0.0/16");

    CliRunner.Result list = cli.run("provisioner", "list");

    assertThat(list.status()).as(list.err()).isZero();
    JsonNode policy = new ObjectMapper().readTree(list.out()).get(0).get("namePolicy");
    assertThat(policy.toString()).isEqualTo("{\"allow\":{\"dns\":[\"*.internal.example.com\"]},"
        + "\"deny\":{\"ip\":[\"10.9.0.0/16\"]}}");
  }

  @Test
  void updateChangesOnlyWhatIsGiven() throws Exception {
    addFullProvisioner("P");
    cli.run("provisioner", "add", "Q", "--type", "AWS", "--aws-account", ACCOUNT);
    ProvisionerConfig before = provisioner("P");

    CliRunner.Result update = cli.run("provisioner", "update", "P", "--deny-ip",
        "10.9.0.0/16", "--deny-ip", "10.8.0.0/16", "--disable-renewal");

    assertThat(update.status()).as(update.err()).isZero();
    assertThat(update.err()).contains("\u2714 Updated provisioner: P (AWS)");
    ProvisionerConfig after = provisioner("P");
    assertThat(after).isEqualTo(new ProvisionerConfig("P", "AWS", before.lifetime(),
        true, true, Duration.ofHours(1), List.of(ACCOUNT, OTHER_ACCOUNT), List.of("rsa2048"),
        List.of(), true, true, Duration.ofDays(7), true,
        before.namePolicy().with(ListName.DENY_IP, List.of("10.9.0.0/16", "10.8.0.0/16"))));
    assertThat(config().provisioners()).extracting(ProvisionerConfig::name)
        .containsExactly("P", "Q");
    assertThat(provisioner("Q").namePolicy()).isEqualTo(NamePolicy.NONE);
  }

  @Test
  void updateTurnsOptionsOff() throws Exception {
    addFullProvisioner("P");
    ProvisionerConfig before = provisioner("P");

    CliRunner.Result update = cli.run("provisioner", "update", "P",
        "--disable-custom-sans=false", "--disable-trust-on-first-use=false",
        "--allow-renewal-after-expiry=false", "--allow-restarted-instances=false",
        "--instance-age", "none", "--reattest-after", "none", "--aws-account", ACCOUNT,
        "--aws-signature-forms", "rsa2048,signature", "--clear-name-policy");

    assertThat(update.status()).as(update.err()).isZero();
    assertThat(provisioner("P")).isEqualTo(new ProvisionerConfig("P", "AWS",
        before.lifetime(), false, false, null, List.of(ACCOUNT),
        List.of("rsa2048", "signature"), List.of(), false, false, null, false,
        NamePolicy.NONE));
  }

  @Test
  void clearNamePolicyThenSetOneList() throws Exception {
    addFullProvisioner("P");

    CliRunner.Result update = cli.run("provisioner", "update", "P", "--clear-name-policy",
        "--allow-uri", "spiffe://example.org/ns/");

    assertThat(update.status()).as(update.err()).isZero();
    assertThat(provisioner("P").namePolicy()).isEqualTo(NamePolicy.NONE
        .with(ListName.ALLOW_URI, List.of("spiffe://example.org/ns/")));
  }

  /** Returns rows of the case, the arguments after the command, and the exact first line. */
  static Stream<Arguments> usageErrors() {
    return Stream.of(
        Arguments.of("add with a bad CIDR", List.of("provisioner", "add", "R", "--type", "AWS",
            "--aws-account", ACCOUNT, "--allow-ip", "10.0.0.0/33"),
            "iidca provisioner add: invalid value '10.0.0.0/33' for --allow-ip: the prefix"
                + " length after / must be a number from 0 to 32"),
        Arguments.of("add with a wildcard not at the left", List.of("provisioner", "add", "R",
            "--type", "AWS", "--aws-account", ACCOUNT, "--deny-dns", "db.*.example.com"),
            "iidca provisioner add: invalid value 'db.*.example.com' for --deny-dns: a wildcard"
                + " must be the whole leftmost label, as in *.example.com (RFC 6125, 6.4.3)"),
        Arguments.of("update with a bad CIDR", List.of("provisioner", "update", "P",
            "--deny-ip", "10.9.0.1/16"),
            "iidca provisioner update: invalid value '10.9.0.1/16' for --deny-ip: bits after"
                + " the prefix are set: the range is 10.9.0.0/16"),
        Arguments.of("update with a bad email pattern", List.of("provisioner", "update", "P",
            "--allow-email", "example.com"),
            "iidca provisioner update: invalid value 'example.com' for --allow-email: write a"
                + " mailbox such as ops@example.com, or @example.com for every mailbox of a"
                + " domain"),
        Arguments.of("update of an unknown provisioner", List.of("provisioner", "update",
            "nope", "--disable-renewal"),
            "iidca provisioner update: provisioner 'nope' not found; iidca provisioner list"
                + " shows the configured ones"),
        Arguments.of("update with nothing to change", List.of("provisioner", "update", "P"),
            "iidca provisioner update: nothing to change: give the options to change, such as"
                + " --allow-dns '*.internal.example.com'"),
        Arguments.of("update with NAME after a switch", List.of("provisioner", "update",
            "--disable-renewal", "P"),
            "iidca provisioner update: --disable-renewal takes no value, =true or =false, not"
                + " 'P'; put NAME before the options"),
        Arguments.of("update with a bad duration", List.of("provisioner", "update", "P",
            "--instance-age", "soon"), null),
        Arguments.of("update with an account of 5 digits", List.of("provisioner", "update", "P",
            "--aws-account", "12345"),
            "iidca provisioner update: invalid value '12345' for --aws-account: an AWS account"
                + " id is 12 digits"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("usageErrors")
  void usageErrorsExitTwoAndChangeNothing(String label, List<String> args, String message)
      throws Exception {
    addFullProvisioner("P");
    byte[] before = Files.readAllBytes(ConfigFile.path(directory));

    CliRunner.Result result = cli.run(args.toArray(String[]::new));

    assertThat(result.status()).as(result.err()).isEqualTo(2);
    if (message != null) {
      assertThat(result.err().lines().findFirst()).contains(message);
    } else {
      assertThat(result.err()).startsWith("iidca provisioner update: --instance-age: ");
    }
    assertThat(Files.readAllBytes(ConfigFile.path(directory))).isEqualTo(before);
  }

  @Test
  void initStoresCaPolicy() throws Exception {
    Path password = Files.writeString(directory.resolve("pw"), "correct horse\n");
    CliRunner fresh = new CliRunner(directory.resolve("ca").toString());

    CliRunner.Result init = fresh.run("init", "--name", "My CA", "--dns", "ca.local",
        "--address", "127.0.0.1:8443", "--password-file", password.toString(),
        "--allow-dns", ".example.com", "--allow-dns", "*.ec2.internal", "--deny-ip",
        "10.9.0.0/16", "--deny-uri", "spiffe://example.org/admin/");

    assertThat(init.status()).as(init.err()).isZero();
    assertThat(ConfigFile.load(directory.resolve("ca")).namePolicy()).isEqualTo(
        NamePolicy.of(Map.of(ListName.ALLOW_DNS, List.of(".example.com", "*.ec2.internal"),
            ListName.DENY_IP, List.of("10.9.0.0/16"),
            ListName.DENY_URI, List.of("spiffe://example.org/admin/"))));
  }

  @Test
  void initRejectsBadCidr() throws Exception {
    Path password = Files.writeString(directory.resolve("pw"), "correct horse\n");
    Path caPath = directory.resolve("ca");
    CliRunner fresh = new CliRunner(caPath.toString());

    CliRunner.Result init = fresh.run("init", "--name", "My CA", "--dns", "ca.local",
        "--address", "127.0.0.1:8443", "--password-file", password.toString(),
        "--allow-ip", "10.0.0.0/8", "--allow-ip", "fd00::/129");

    assertThat(init.status()).isEqualTo(2);
    assertThat(init.err().lines().findFirst()).contains("iidca init: invalid value"
        + " 'fd00::/129' for --allow-ip: the prefix length after / must be a number from 0 to"
        + " 128");
    assertThat(caPath).doesNotExist();
  }

  private void addFullProvisioner(String name) {
    CliRunner.Result add = cli.run("provisioner", "add", name, "--type", "AWS",
        "--aws-account", ACCOUNT, "--aws-account", OTHER_ACCOUNT, "--disable-custom-sans",
        "--disable-trust-on-first-use", "--instance-age", "1h", "--allow-renewal-after-expiry",
        "--reattest-after", "7d", "--allow-restarted-instances", "--aws-signature-forms",
        "rsa2048", "--allow-dns", "*.internal.example.com", "--deny-dns",
        "db.internal.example.com", "--allow-ip", "10.0.0.0/8");
    assertThat(add.status()).as(add.err()).isZero();
  }

  private CaConfig config() throws Exception {
    return ConfigFile.load(directory);
  }

  private ProvisionerConfig provisioner(String name) throws Exception {
    return config().provisioner(name).orElseThrow();
  }
}
