package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.iidca.ca.config.CaConfig;
import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.store.LocalPostgres;
import io.iidca.ca.store.TestDatabase;
import io.iidca.routes.client.CaClient;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsTestSigner;
import io.iidca.testkit.pki.TestCa;
import java.net.URI;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two complete CA nodes in one JVM, each with its own Camel context, HTTPS server and
 * connection pool, on one PostgreSQL database: the database, not the nodes, decides races.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MultiNodeTest {

  static final String ACCOUNT = "123456789042";
  static final String PROVISIONER = "fleet";

  @TempDir
  static Path directory;

  TestDatabase postgres;
  AwsTestSigner signer;
  List<CaServer> nodes = new ArrayList<>();
  List<CaClient> clients = new ArrayList<>();
  List<String> urls = new ArrayList<>();

  @BeforeAll
  void startNodes() throws Exception {
    Optional<TestDatabase> database = LocalPostgres.open();
    assumeTrue(database.isPresent(), "no Docker engine and no PostgreSQL server installed");
    postgres = database.get();
    signer = AwsTestSigner.generate();
    TestCa ca = TestCa.create(directory);
    ca.addProvisioner(new ProvisionerConfig(PROVISIONER, "AWS", Lifetime.DEFAULT, false, false,
        null, List.of(ACCOUNT), ProvisionerConfig.DEFAULT_AWS_FORMS,
        List.of(ca.writeCertificates("emulator", signer.certificates()))));
    CaConfig config = ca.config().withDb(postgres.config());
    for (int i = 0; i < 2; i++) {
      CaRuntime runtime = CaRuntime.load(ca.files(), config, TestCa.PASSWORD,
          Clock.systemUTC());
      CaServer node = CaServer.start(runtime, ListenAddress.parse("127.0.0.1:0"));
      nodes.add(node);
      urls.add("https://127.0.0.1:" + node.port());
      clients.add(new CaClient(URI.create(urls.get(i)), ca.root(), Duration.ofSeconds(30)));
    }
  }

  @AfterAll
  void stopNodes() throws Exception {
    nodes.forEach(CaServer::close);
    if (postgres != null) {
      postgres.close();
    }
  }

  @Test
  void racingFirstEnrollmentsIssueOnce() throws Exception {
    AwsInstance instance = AwsInstance.random(ACCOUNT, "us-east-1");
    List<Callable<Integer>> attempts = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      int node = i % 2;
      Map<String, Object> body = new SignRequestBuilder(signer, instance, urls.get(node),
          PROVISIONER).body();
      attempts.add(() -> clients.get(node).post("/1.0/sign", body).status());
    }

    Map<Integer, Integer> statuses = run(attempts, 32);

    assertThat(statuses).containsEntry(201, 1).containsEntry(403, 99).hasSize(2);
    assertThat(nodes.get(0).runtime().store().certificatesOf(PROVISIONER,
        instance.instanceId())).hasSize(1);
  }

  @Test
  void distinctInstancesAllEnrollAcrossNodes() throws Exception {
    long before = nodes.get(0).runtime().store().countCertificates();
    List<Callable<Integer>> attempts = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      int node = i % 2;
      Map<String, Object> body = new SignRequestBuilder(signer,
          AwsInstance.random(ACCOUNT, "us-east-1"), urls.get(node), PROVISIONER).body();
      attempts.add(() -> clients.get(node).post("/1.0/sign", body).status());
    }

    Map<Integer, Integer> statuses = run(attempts, 16);

    assertThat(statuses).containsExactly(Map.entry(201, 1000));
    assertThat(nodes.get(1).runtime().store().countCertificates()).isEqualTo(before + 1000);
    try (var connection = DriverManager.getConnection(postgres.config().url());
        var statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("SELECT COUNT(DISTINCT serial), COUNT(*)"
            + " FROM certificates WHERE provisioner = 'fleet'")) {
      rows.next();
      assertThat(rows.getLong(1)).isEqualTo(rows.getLong(2));
    }
    assertThat(nodes.get(0).runtime().store().registrations(PROVISIONER).size())
        .isGreaterThanOrEqualTo(1000);
  }

  static Map<Integer, Integer> run(List<Callable<Integer>> attempts, int threads)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      Map<Integer, Integer> statuses = new HashMap<>();
      for (Future<Integer> result : pool.invokeAll(attempts)) {
        statuses.merge(result.get(), 1, Integer::sum);
      }
      return statuses;
    } finally {
      pool.shutdownNow();
    }
  }
}
