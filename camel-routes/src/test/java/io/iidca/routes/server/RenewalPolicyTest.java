package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.iidca.ca.config.CaConfig;
import io.iidca.ca.config.ConfigFile;
import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.policy.NamePolicy;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A name policy made stricter after issuance stops the renewal of the names it now denies. */
class RenewalPolicyTest {

  static final String ACCOUNT = "123456789042";

  @TempDir
  Path directory;

  @Test
  void stricterPolicyStopsRenewal() throws Exception {
    AwsTestSigner signer = AwsTestSigner.generate();
    TestCa ca = TestCa.create(directory);
    String certificates = ca.writeCertificates("emulator", signer.certificates());
    ca.addProvisioner(new ProvisionerConfig("fleet", "AWS", Lifetime.DEFAULT, false, false,
        null, List.of(ACCOUNT), ProvisionerConfig.DEFAULT_AWS_FORMS, List.of(certificates)));

    SignRequestBuilder request;
    X509Certificate issued;
    CaRuntime lenient = CaRuntime.load(ca.files(), ca.config(), TestCa.PASSWORD,
        Clock.systemUTC());
    try (CaServer server = CaServer.start(lenient, ListenAddress.parse("127.0.0.1:0"))) {
      String url = "https://127.0.0.1:" + server.port();
      request = new SignRequestBuilder(signer, AwsInstance.random(ACCOUNT, "us-east-1"), url,
          "fleet").subject("db.internal.example.com");
      CaClient.Response response = new CaClient(URI.create(url), ca.root(),
          Duration.ofSeconds(10)).post("/1.0/sign", request.body());
      assertThat(response.status()).isEqualTo(201);
      issued = Pem.parseCertificates(response.body().get("crt").asText()
          .getBytes(StandardCharsets.US_ASCII)).get(0);
    }

    CaConfig strict = withDeniedName(ca.config(), "db.internal.example.com");
    ConfigFile.save(ca.files().base(), strict);
    CaRuntime runtime = CaRuntime.load(ca.files(), strict, TestCa.PASSWORD, Clock.systemUTC());
    try (CaServer server = CaServer.start(runtime, ListenAddress.parse("127.0.0.1:0"))) {
      String url = "https://127.0.0.1:" + server.port();
      CaClient holder = new CaClient(URI.create(url), ca.root(), request.keys().getPrivate(),
          List.of(issued, runtime.issuer().certificate()), Duration.ofSeconds(10));

      CaClient.Response renewal = holder.post("/1.0/renew", Map.of());

      assertThat(renewal.status()).isEqualTo(403);
      assertThat(renewal.message()).contains("db.internal.example.com");
    }
  }

  /** The configuration with a CA-level policy that denies one DNS name. */
  static CaConfig withDeniedName(CaConfig config, String name) {
    NamePolicy deny = new NamePolicy(List.of(), List.of(), List.of(), List.of(), List.of(name),
        List.of(), List.of(), List.of());
    return new CaConfig(config.name(), config.address(), config.dnsNames(), config.root(),
        config.crt(), config.key(), config.db(), config.lifetime(), config.provisioners(),
        config.crlUrl(), config.ocspUrl(), deny);
  }
}
