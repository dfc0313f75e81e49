package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.KeyFiles;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.store.CertificateRecord;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsMetadataEmulator;
import java.net.URI;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * An enrollment whose response is lost after the CA recorded its certificate, under trust on
 * first use: the client sends the same request again and gets the same certificate, instead of
 * a 403 that would lock the instance out.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LostResponseTest {

  /**
   * Client bytes after which the proxy cuts the response: more than the TLS handshake's, less
   * than the handshake's and the sign request's together (its token alone is over 2 KB).
   */
  private static final int REQUEST_BYTES = 2000;

  @TempDir
  static Path caDirectory;
  @TempDir
  Path directory;

  RenewalCa ca;
  ListAppender<ILoggingEvent> audit = new ListAppender<>();

  @BeforeAll
  void startCa() throws Exception {
    ca = RenewalCa.start(caDirectory);
    audit.start();
    ((Logger) LoggerFactory.getLogger("iidca.audit")).addAppender(audit);
  }

  @AfterAll
  void stopCa() {
    ((Logger) LoggerFactory.getLogger("iidca.audit")).detachAppender(audit);
    ca.close();
  }

  @Test
  void lostResponseGetsSameCertificate() throws Exception {
    AwsInstance instance = AwsInstance.random(RenewalCa.ACCOUNT, "us-east-1");
    Path crt = directory.resolve("app.crt");
    Path key = directory.resolve("app.key");
    List<String> lines = new CopyOnWriteArrayList<>();
    EnrollmentResult result;
    try (AwsMetadataEmulator emulator = AwsMetadataEmulator.builder().signer(ca.signer())
            .instance(instance).start();
        ResponseCuttingProxy proxy = new ResponseCuttingProxy(ca.url(), 2, REQUEST_BYTES)) {
      result = Enroller.enroll(request(proxy.url(), emulator.endpoint(), crt, key,
          lines::add));
      // The JDK sends a POST once more when the connection closes before the response
      // (sun.net.http.retryPost), and the proxy cuts that one too.
      assertThat(proxy.connections()).isEqualTo(3);
    }

    assertThat(lines).anyMatch(line -> line.startsWith("Sending the sign request again in 2 s,"
        + " because the connection to the CA at "));
    String serial = result.certificate().getSerialNumber().toString(16);
    List<CertificateRecord> recorded = ca.store().certificatesOf(RenewalCa.PROVISIONER,
        instance.instanceId());
    assertThat(recorded).extracting(CertificateRecord::serial).containsExactly(serial);
    assertThat(audit.list).extracting(ILoggingEvent::getFormattedMessage)
        .filteredOn(line -> line.contains("instance_id=" + instance.instanceId()))
        .satisfiesExactly(
            first -> assertThat(first).contains("outcome=issued ", "serial=" + serial),
            resent -> assertThat(resent).contains("outcome=issued_earlier", "serial=" + serial),
            repeat -> assertThat(repeat).contains("outcome=issued_earlier", "serial=" + serial));
    X509Certificate written = Pem.readCertificate(crt);
    assertThat(written.getSerialNumber()).isEqualTo(result.certificate().getSerialNumber());
    assertThat(Renewer.matches(KeyFiles.read(key, null), written.getPublicKey())).isTrue();
  }

  private EnrollmentRequest request(URI caUrl, URI metadata, Path crt, Path key,
      Consumer<String> lines) {
    Map<String, String> variables = Map.of(MetadataEndpoints.AWS_VARIABLE, metadata.toString());
    return new EnrollmentRequest(caUrl, ca.root(), null, RenewalCa.PROVISIONER,
        RenewalCa.SUBJECT, List.of(), KeySpec.EC_P256, crt, key, false, lines,
        ProvisionerConfig.TYPE_AWS, variables::get, null);
  }
}
