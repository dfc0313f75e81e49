package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.Pem;
import io.iidca.routes.client.CaClient;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsTestSigner;
import io.iidca.testkit.pki.TestCa;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The CA of the possession-token tests: HTTPS on 127.0.0.1 with provisioner {@value #FLEET},
 * which trusts a test AWS signer and allows one enrollment per instance, every log event
 * captured, and helpers that enroll instances and make clients.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class PossessionTokenCaTest {

  static final String ACCOUNT = "123456789042";
  static final String FLEET = "fleet";

  @TempDir
  static Path directory;

  AwsTestSigner signer;
  TestCa ca;
  CaServer server;
  String caUrl;
  ListAppender<ILoggingEvent> everything = new ListAppender<>();

  /** An enrolled instance: its certificate, its key pair and the instance. */
  record Enrolled(X509Certificate certificate, KeyPair keys, AwsInstance instance) {}

  /** Adds the provisioners beyond {@value #FLEET} that a test class needs. */
  void addProvisioners(String certificates) throws Exception {}

  @BeforeAll
  void startCa() throws Exception {
    signer = AwsTestSigner.generate();
    ca = TestCa.create(directory);
    String certificates = ca.writeCertificates("emulator", signer.certificates());
    ca.addProvisioner(new ProvisionerConfig(FLEET, "AWS", Lifetime.DEFAULT, false, false,
        null, List.of(ACCOUNT), ProvisionerConfig.DEFAULT_AWS_FORMS, List.of(certificates)));
    addProvisioners(certificates);
    CaRuntime runtime = CaRuntime.load(ca.files(), ca.config(), TestCa.PASSWORD,
        Clock.systemUTC());
    server = CaServer.start(runtime, ListenAddress.parse("127.0.0.1:0"));
    caUrl = "https://127.0.0.1:" + server.port();
    everything.start();
    ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(everything);
  }

  @AfterAll
  void stopCa() {
    ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(everything);
    server.close();
  }

  /** Enrolls a new instance under {@value #FLEET}, with no extra names. */
  Enrolled enroll() throws Exception {
    return enroll(FLEET, AwsInstance.random(ACCOUNT, "us-east-1"), List.of());
  }

  Enrolled enroll(String provisioner, AwsInstance instance, List<String> sans) throws Exception {
    SignRequestBuilder request = new SignRequestBuilder(signer, instance, caUrl, provisioner)
        .sans(sans);
    CaClient.Response response = plain().post("/1.0/sign", request.body());
    assertThat(response.status()).as(response.message()).isEqualTo(201);
    return new Enrolled(parse(response.body().get("crt").asText()), request.keys(), instance);
  }

  /** Returns a client that presents no certificate. */
  CaClient plain() throws Exception {
    return new CaClient(URI.create(caUrl), ca.root(), Duration.ofSeconds(10));
  }

  /** Returns a client that presents the holder's certificate over mutual TLS. */
  CaClient presenting(Enrolled holder) throws Exception {
    return new CaClient(URI.create(caUrl), ca.root(), holder.keys().getPrivate(),
        List.of(holder.certificate(), server.runtime().issuer().certificate()),
        Duration.ofSeconds(10));
  }

  /** Returns the body's bytes as {@link CaClient} sends them. */
  static byte[] bytes(Map<String, Object> body) throws Exception {
    return new ObjectMapper().writeValueAsBytes(body);
  }

  static X509Certificate parse(String pem) throws Exception {
    return Pem.parseCertificates(pem.getBytes(StandardCharsets.US_ASCII)).get(0);
  }
}
