package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.store.LocalPostgres;
import io.iidca.ca.store.TestDatabase;
import io.iidca.routes.client.CaClient;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsTestSigner;
import io.iidca.testkit.pki.TestCa;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stream of enrollments while PostgreSQL goes away and comes back: every answer is a 201 whose
 * certificate is recorded, or a 503 with Retry-After; the node serves again without a restart.
 */
class DatabaseOutageTest {

  static final String ACCOUNT = "123456789042";

  @TempDir
  Path directory;

  @Test
  void nodeSurvivesDatabaseRestart() throws Exception {
    Optional<TestDatabase> database = LocalPostgres.open();
    assumeTrue(database.isPresent(), "no Docker engine and no PostgreSQL server installed");
    try (TestDatabase postgres = database.get()) {
      AwsTestSigner signer = AwsTestSigner.generate();
      TestCa ca = TestCa.create(directory);
      ca.addProvisioner(new ProvisionerConfig("fleet", "AWS", Lifetime.DEFAULT, false, false,
          null, List.of(ACCOUNT), ProvisionerConfig.DEFAULT_AWS_FORMS,
          List.of(ca.writeCertificates("emulator", signer.certificates()))));
      CaRuntime runtime = CaRuntime.load(ca.files(), ca.config().withDb(postgres.config()),
          TestCa.PASSWORD, Clock.systemUTC());
      try (CaServer server = CaServer.start(runtime, ListenAddress.parse("127.0.0.1:0"))) {
        String url = "https://127.0.0.1:" + server.port();
        CaClient client = new CaClient(URI.create(url), ca.root(), Duration.ofSeconds(30));
        List<String> issuedSerials = new ArrayList<>();
        int unavailable = 0;

        for (int i = 0; i < 20; i++) {
          assertThat(enroll(client, signer, url, issuedSerials)).isEqualTo(201);
        }

        postgres.stop();
        for (int i = 0; i < 10; i++) {
          int status = enroll(client, signer, url, issuedSerials);
          assertThat(status).isEqualTo(503);
          unavailable++;
        }
        CaClient.Response health = client.get("/health");
        assertThat(health.status()).isEqualTo(503);

        postgres.start();
        int recovered = 0;
        for (int i = 0; i < 200 && recovered < 20; i++) {
          int status = enroll(client, signer, url, issuedSerials);
          assertThat(status).isIn(201, 503);
          if (status == 201) {
            recovered++;
          } else {
            Thread.sleep(100);
          }
        }

        assertThat(unavailable).isEqualTo(10);
        assertThat(recovered).isEqualTo(20);
        assertThat(client.get("/health").status()).isEqualTo(200);
        for (String serial : issuedSerials) {
          assertThat(runtime.store().findCertificate(serial)).as(serial).isPresent();
        }
      }
    }
  }

  /** Enrolls a new instance; records the serial of a 201, checks Retry-After on a 503. */
  private static int enroll(CaClient client, AwsTestSigner signer, String url,
      List<String> issuedSerials) throws Exception {
    var body = new SignRequestBuilder(signer, AwsInstance.random(ACCOUNT, "us-east-1"), url,
        "fleet").body();
    CaClient.Response response = client.post("/1.0/sign", body);
    if (response.status() == 201) {
      issuedSerials.add(Pem.parseCertificates(response.body().get("crt").asText()
          .getBytes(StandardCharsets.US_ASCII)).get(0).getSerialNumber().toString(16));
    }
    return response.status();
  }
}
