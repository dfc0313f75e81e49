package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.ca.config.CaConfig;
import io.iidca.ca.config.ConfigException;
import io.iidca.ca.config.GcpOptions;
import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.policy.NamePolicy;
import io.iidca.ca.provisioner.AwsProvisioner;
import io.iidca.ca.provisioner.GcpProvisioner;
import io.iidca.routes.client.CaClient;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsTestSigner;
import io.iidca.testkit.pki.TestCa;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replacing the provisioners of a running CA, as {@code iidca serve} does on SIGHUP, checked
 * with sign requests over HTTPS. Each test starts from the CA's own configuration with one
 * provisioner.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProvisionerReloadTest {

  static final String ACCOUNT = "123456789042";
  static final String OTHER_ACCOUNT = "444455556666";
  static final String FIRST = "AWS IID Provisioner";
  static final String SECOND = "Second";

  @TempDir
  static Path directory;

  AwsTestSigner signer;
  TestCa ca;
  String emulatorCertificates;
  CaConfig started;
  CaServer server;
  CaClient client;
  String caUrl;

  @BeforeAll
  void startCa() throws Exception {
    signer = AwsTestSigner.generate();
    ca = TestCa.create(directory);
    emulatorCertificates = ca.writeCertificates("emulator", signer.certificates());
    started = ca.addProvisioner(aws(FIRST, ACCOUNT));
    server = CaServer.start(CaRuntime.load(ca.files(), started, TestCa.PASSWORD,
        Clock.systemUTC()), ListenAddress.parse("127.0.0.1:0"));
    caUrl = "https://127.0.0.1:" + server.port();
    client = new CaClient(URI.create(caUrl), ca.root(), Duration.ofSeconds(5));
  }

  @AfterAll
  void stopCa() {
    server.close();
  }

  @BeforeEach
  void restoreStartedProvisioners() {
    runtime().reloadProvisioners(started);
  }

  @Test
  void addedProvisionerSignsAfterReload() throws Exception {
    AwsInstance instance = AwsInstance.random(ACCOUNT, "us-east-1");
    int before = sign(instance, SECOND);

    CaRuntime.Reload reload = runtime().reloadProvisioners(with(aws(SECOND, ACCOUNT)));

    assertThat(before).isEqualTo(401);
    assertThat(reload.added()).containsExactly(SECOND);
    assertThat(reload.removed()).isEmpty();
    assertThat(reload.changed()).isEmpty();
    assertThat(sign(instance, SECOND)).isEqualTo(201);
    assertThat(runtime().provisioners()).extracting(ProvisionerConfig::name)
        .containsExactly(FIRST, SECOND);
  }

  @Test
  void removedProvisionerRejectsAfterReload() throws Exception {
    runtime().reloadProvisioners(with(aws(SECOND, ACCOUNT)));
    assertThat(sign(AwsInstance.random(ACCOUNT, "us-east-1"), SECOND)).isEqualTo(201);

    CaRuntime.Reload reload = runtime().reloadProvisioners(started);

    assertThat(reload.removed()).containsExactly(SECOND);
    assertThat(sign(AwsInstance.random(ACCOUNT, "us-east-1"), SECOND)).isEqualTo(401);
    assertThat(sign(AwsInstance.random(ACCOUNT, "us-east-1"), FIRST)).isEqualTo(201);
  }

  @Test
  void changedProvisionerAppliesItsNewAccounts() throws Exception {
    AwsProvisioner before = runtime().awsProvisioner(FIRST).orElseThrow();
    AwsInstance other = AwsInstance.random(OTHER_ACCOUNT, "us-east-1");
    assertThat(sign(other, FIRST)).isEqualTo(401);

    CaRuntime.Reload reload = runtime().reloadProvisioners(
        started.withProvisionerReplaced(aws(FIRST, OTHER_ACCOUNT)));

    assertThat(reload.changed()).containsExactly(FIRST);
    assertThat(runtime().awsProvisioner(FIRST).orElseThrow()).isNotSameAs(before);
    assertThat(sign(other, FIRST)).isEqualTo(201);
    assertThat(sign(AwsInstance.random(ACCOUNT, "us-east-1"), FIRST)).isEqualTo(401);
  }

  @Test
  void rewrittenCertificateFileIsReadAgain() throws Exception {
    AwsTestSigner replacement = AwsTestSigner.generate();
    ca.writeCertificates("emulator", replacement.certificates());
    try {
      CaRuntime.Reload reload = runtime().reloadProvisioners(started);

      assertThat(reload.unchanged()).isTrue();
      assertThat(client.post("/1.0/sign", new SignRequestBuilder(replacement,
          AwsInstance.random(ACCOUNT, "us-east-1"), caUrl, FIRST).body()).status())
          .isEqualTo(201);
      assertThat(sign(AwsInstance.random(ACCOUNT, "us-east-1"), FIRST)).isEqualTo(401);
    } finally {
      ca.writeCertificates("emulator", signer.certificates());
    }
  }

  @Test
  void unchangedGcpProvisionerKeepsItsKeys() {
    ProvisionerConfig gcp = ProvisionerConfig.gcp("GCP", new GcpOptions(List.of("project-1"),
        List.of(), List.of(), "https://127.0.0.1:1/keys", null, false));
    runtime().reloadProvisioners(with(gcp));
    GcpProvisioner before = runtime().gcpProvisioner("GCP").orElseThrow();

    CaRuntime.Reload reload = runtime().reloadProvisioners(with(gcp));

    assertThat(reload.unchanged()).isTrue();
    assertThat(runtime().gcpProvisioner("GCP").orElseThrow()).isSameAs(before);
  }

  @Test
  void unbuildableProvisionerKeepsRunningOnes() throws Exception {
    ProvisionerConfig broken = new ProvisionerConfig(SECOND, "AWS", Lifetime.DEFAULT, false,
        false, null, List.of(ACCOUNT), ProvisionerConfig.DEFAULT_AWS_FORMS,
        List.of("certs/missing.pem"));
    CaRuntime.Provisioners before = runtime().current();

    assertThatThrownBy(() -> runtime().reloadProvisioners(with(broken)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("certs/missing.pem")
        .hasMessageContaining("provisioners." + SECOND + ".awsCertificates");

    assertThat(runtime().current()).isSameAs(before);
    assertThat(sign(AwsInstance.random(ACCOUNT, "us-east-1"), SECOND)).isEqualTo(401);
    assertThat(sign(AwsInstance.random(ACCOUNT, "us-east-1"), FIRST)).isEqualTo(201);
  }

  @Test
  void changedNamePolicyApplies() throws Exception {
    NamePolicy denyExample = NamePolicy.of(Map.of(NamePolicy.ListName.DENY_DNS,
        List.of("*.example.com")));
    CaConfig fresh = new CaConfig(started.name(), started.address(), started.dnsNames(),
        started.root(), started.crt(), started.key(), started.db(), started.lifetime(),
        started.provisioners(), started.crlUrl(), started.ocspUrl(), denyExample);
    AwsInstance instance = AwsInstance.random(ACCOUNT, "us-east-1");

    CaRuntime.Reload reload = runtime().reloadProvisioners(fresh);

    assertThat(reload.namePolicyChanged()).isTrue();
    assertThat(reload.unchanged()).isFalse();
    assertThat(client.post("/1.0/sign", new SignRequestBuilder(signer, instance, caUrl, FIRST)
        .subject("app.example.com").sans(List.of("app.example.com")).body()).status())
        .isEqualTo(403);
  }

  @Test
  void otherSettingsWaitForRestart() {
    CaConfig fresh = new CaConfig(started.name(), "127.0.0.1:1", List.of("other.local"),
        started.root(), started.crt(), started.key(), started.db(),
        new Lifetime(Duration.ofHours(2), Duration.ofMinutes(5), Duration.ofHours(4)),
        started.provisioners(), started.crlUrl(), started.ocspUrl(), started.namePolicy());

    CaRuntime.Reload reload = runtime().reloadProvisioners(fresh);

    assertThat(reload.needRestart()).containsExactly("address", "dnsNames", "lifetime");
    assertThat(reload.unchanged()).isTrue();
    assertThat(runtime().config().address()).isEqualTo(started.address());
    assertThat(runtime().config().dnsNames()).isEqualTo(started.dnsNames());
    assertThat(runtime().config().lifetime()).isEqualTo(started.lifetime());
  }

  @Test
  void identifiedRequestKeepsItsProvisioners() {
    runtime().reloadProvisioners(with(aws(SECOND, ACCOUNT)));
    CaRuntime.Provisioners identified = runtime().current();

    runtime().reloadProvisioners(started);

    assertThat(identified.aws()).containsKey(SECOND);
    assertThat(identified.config().provisioner(SECOND)).isPresent();
    assertThat(runtime().current().aws()).doesNotContainKey(SECOND);
  }

  private CaRuntime runtime() {
    return server.runtime();
  }

  private ProvisionerConfig aws(String name, String account) {
    return new ProvisionerConfig(name, "AWS", Lifetime.DEFAULT, false, false, null,
        List.of(account), ProvisionerConfig.DEFAULT_AWS_FORMS, List.of(emulatorCertificates));
  }

  private CaConfig with(ProvisionerConfig provisioner) {
    List<ProvisionerConfig> provisioners = new ArrayList<>(started.provisioners());
    provisioners.add(provisioner);
    return new CaConfig(started.name(), started.address(), started.dnsNames(), started.root(),
        started.crt(), started.key(), started.db(), started.lifetime(), provisioners,
        started.crlUrl(), started.ocspUrl(), started.namePolicy());
  }

  private int sign(AwsInstance instance, String provisioner) throws Exception {
    return client.post("/1.0/sign",
        new SignRequestBuilder(signer, instance, caUrl, provisioner).body()).status();
  }
}
