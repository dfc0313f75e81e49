package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import io.iidca.ca.config.CaConfig;
import io.iidca.ca.config.ConfigFile;
import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.policy.NamePolicy;
import io.iidca.ca.policy.NamePolicy.ListName;
import io.iidca.routes.client.CaClient;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsTestSigner;
import io.iidca.testkit.pki.TestCa;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * The CA's and a provisioner's name policies over real HTTPS. The provisioner allows only
 * {@code *.internal.example.com}, EC2's {@code *.ec2.internal} names and 10.0.0.0/8, and denies
 * {@code db.internal.example.com}; the CA denies {@code legacy.internal.example.com}. Emulated
 * instances are in us-east-1, so the names AWS vouches for are {@code ip-10-….ec2.internal}
 * and the private IP, which the policies check too.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NamePolicyPipelineTest {

  static final String ACCOUNT = "123456789042";
  static final String PROVISIONER = "listed";

  @TempDir
  static Path directory;

  AwsTestSigner signer;
  CaServer server;
  CaClient client;
  String caUrl;
  ListAppender<ILoggingEvent> audit;

  @BeforeAll
  void startCa() throws Exception {
    signer = AwsTestSigner.generate();
    TestCa ca = TestCa.create(directory);
    String emulatorCertificates = ca.writeCertificates("emulator", signer.certificates());
    NamePolicy provisionerPolicy = NamePolicy.of(Map.of(
        ListName.ALLOW_DNS, List.of("*.internal.example.com", "*.ec2.internal"),
        ListName.ALLOW_IP, List.of("10.0.0.0/8"),
        ListName.DENY_DNS, List.of("db.internal.example.com")));
    ca.addProvisioner(new ProvisionerConfig(PROVISIONER, "AWS", Lifetime.DEFAULT, false, false,
        null, List.of(ACCOUNT), ProvisionerConfig.DEFAULT_AWS_FORMS,
        List.of(emulatorCertificates), false, false, null, false, provisionerPolicy));
    CaConfig config = ca.config();
    ConfigFile.save(ca.files().base(), new CaConfig(config.name(), config.address(),
        config.dnsNames(), config.root(), config.crt(), config.key(), config.db(),
        config.lifetime(), config.provisioners(), config.crlUrl(), config.ocspUrl(),
        NamePolicy.NONE.with(ListName.DENY_DNS, List.of("legacy.internal.example.com"))));
    CaRuntime runtime = CaRuntime.load(ca.files(), ca.config(), TestCa.PASSWORD,
        Clock.systemUTC());
    server = CaServer.start(runtime, ListenAddress.parse("127.0.0.1:0"));
    caUrl = "https://127.0.0.1:" + server.port();
    client = new CaClient(URI.create(caUrl), ca.root(), Duration.ofSeconds(5));
    audit = new ListAppender<>();
    audit.start();
    ((Logger) LoggerFactory.getLogger("iidca.audit")).addAppender(audit);
  }

  @AfterAll
  void stopCa() {
    ((Logger) LoggerFactory.getLogger("iidca.audit")).detachAppender(audit);
    server.close();
  }

  @BeforeEach
  void clearAudit() {
    audit.list.clear();
  }

  /** Creates a new instance, so that trust on first use never rejects a request here. */
  static AwsInstance instance(String privateIp) {
    AwsInstance random = AwsInstance.random(ACCOUNT, "us-east-1");
    return new AwsInstance(ACCOUNT, "us-east-1", random.instanceId(), privateIp,
        random.pendingTime(), random.instanceType(), random.imageId());
  }

  SignRequestBuilder request(AwsInstance instance, String subject, List<String> sans) {
    return new SignRequestBuilder(signer, instance, caUrl, PROVISIONER).subject(subject)
        .sans(sans);
  }

  @Test
  void allowedNamesAreIssued() throws Exception {
    AwsInstance instance = instance("10.1.2.3");

    CaClient.Response response = client.post("/1.0/sign", request(instance,
        "app.internal.example.com", List.of("app.internal.example.com",
            "api.internal.example.com")).body());

    assertThat(response.status()).as(response.message()).isEqualTo(201);
    assertThat(sans(parse(response.body().get("crt").asText()))).containsExactly(
        "app.internal.example.com", "api.internal.example.com", "ip-10-1-2-3.ec2.internal",
        "10.1.2.3");
  }

  /** Returns rows of the case, private IP, subject, CSR SANs, and the exact 403 message. */
  static Stream<Arguments> deniedRequests() {
    return Stream.of(
        Arguments.of("subject on the provisioner's deny list", "10.1.2.4",
            "db.internal.example.com", List.of(),
            "name db.internal.example.com is denied by the provisioner's deny list"
                + " (db.internal.example.com)"),
        Arguments.of("SAN on the provisioner's deny list", "10.1.2.5",
            "app.internal.example.com", List.of("DB.internal.example.com"),
            "name db.internal.example.com is denied by the provisioner's deny list"
                + " (db.internal.example.com)"),
        Arguments.of("subject outside the allow list", "10.1.2.6", "app.other.com", List.of(),
            "name app.other.com matches no pattern in the provisioner's DNS allow list"
                + " (*.internal.example.com, *.ec2.internal)"),
        Arguments.of("subject on the CA's deny list", "10.1.2.7",
            "legacy.internal.example.com", List.of(),
            "name legacy.internal.example.com is denied by the CA's deny list"
                + " (legacy.internal.example.com)"),
        Arguments.of("SAN IP outside the allow list", "10.1.2.8", "app.internal.example.com",
            List.of("192.168.0.1"), "name 192.168.0.1 matches no pattern in the"
                + " provisioner's IP allow list (10.0.0.0/8)"),
        Arguments.of("vouched private IP outside the allow list", "172.16.0.5",
            "app.internal.example.com", List.of(), "name 172.16.0.5 matches no pattern in the"
                + " provisioner's IP allow list (10.0.0.0/8)"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("deniedRequests")
  void deniedNamesGet403NamingTheName(String label, String privateIp, String subject,
      List<String> sans, String message) throws Exception {
    AwsInstance instance = instance(privateIp);
    long certificates = server.runtime().store().countCertificates();

    CaClient.Response response = client.post("/1.0/sign", request(instance, subject, sans)
        .body());

    assertThat(response.status()).isEqualTo(403);
    assertThat(response.message()).isEqualTo(message);
    assertThat(server.runtime().store().countCertificates()).isEqualTo(certificates);
    assertThat(server.runtime().store().findRegistration(PROVISIONER, instance.instanceId()))
        .isEmpty();
    assertThat(lastAudit()).contains("outcome=rejected", "status=403", "stage=policy",
        message);
  }

  @Test
  void provisionersListShowsNamePolicy() throws Exception {
    JsonNode provisioner = client.get("/provisioners").body().get("provisioners").get(0);

    JsonNode policy = provisioner.get("namePolicy");
    assertThat(policy.get("allow").get("dns").toString())
        .isEqualTo("[\"*.internal.example.com\",\"*.ec2.internal\"]");
    assertThat(policy.get("allow").get("ip").toString()).isEqualTo("[\"10.0.0.0/8\"]");
    assertThat(policy.get("deny").get("dns").toString())
        .isEqualTo("[\"db.internal.example.com\"]");
    assertThat(policy.get("deny").has("ip")).isFalse();
  }

  String lastAudit() {
    assertThat(audit.list).isNotEmpty();
    return audit.list.get(audit.list.size() - 1).getFormattedMessage();
  }

  static X509Certificate parse(String pem) throws Exception {
    return Pem.parseCertificates(pem.getBytes(StandardCharsets.US_ASCII)).get(0);
  }

  static List<String> sans(X509Certificate certificate) throws Exception {
    return certificate.getSubjectAlternativeNames().stream()
        .map(entry -> String.valueOf(entry.get(1))).toList();
  }
}
