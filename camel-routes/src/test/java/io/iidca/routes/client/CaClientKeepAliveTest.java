package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Pem;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsTestSigner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CaClient against a real CA: kept-alive connections of one mutual-TLS client never carry
 * another's requests, and a rejected identity keeps the CA's message.
 */
class CaClientKeepAliveTest {

  @TempDir
  Path directory;

  @Test
  void keptAliveConnectionStaysWithItsClient() throws Exception {
    try (RenewalCa ca = RenewalCa.start(directory)) {
      Path aCrt = directory.resolve("a.crt");
      Path bCrt = directory.resolve("b.crt");
      X509Certificate a = ca.enroll(aCrt, directory.resolve("a.key"), "24h", KeySpec.EC_P256);
      X509Certificate b = ca.enroll(bCrt, directory.resolve("b.key"), "24h", KeySpec.EC_P256);
      CaClient clientA = new CaClient(ca.url(), ca.root(), ClientKeys.read(
          directory.resolve("a.key")), Pem.readCertificates(aCrt), Duration.ofSeconds(10));
      CaClient clientB = new CaClient(ca.url(), ca.root(), ClientKeys.read(
          directory.resolve("b.key")), Pem.readCertificates(bCrt), Duration.ofSeconds(10));

      assertThat(clientA.get("/provisioners").status()).isEqualTo(200);
      CaClient.Response renewB = clientB.post("/1.0/renew", Map.of());
      CaClient.Response renewA = clientA.post("/1.0/renew", Map.of());
      CaClient.Response renewB2 = clientB.post("/1.0/renew", Map.of());

      assertThat(renewB.status()).isEqualTo(201);
      assertThat(renewA.status()).isEqualTo(201);
      assertThat(renewB2.status()).isEqualTo(201);
      assertThat(leaf(renewB).getPublicKey()).isEqualTo(b.getPublicKey());
      assertThat(leaf(renewA).getPublicKey()).isEqualTo(a.getPublicKey());
      assertThat(leaf(renewB2).getPublicKey()).isEqualTo(b.getPublicKey());
    }
  }

  /** The CA's 401 for a document signed by an unknown key: its message should arrive. */
  @Test
  void rejectedIdentityKeepsCaMessage() throws Exception {
    try (RenewalCa ca = RenewalCa.start(directory)) {
      AwsInstance instance = AwsInstance.random(RenewalCa.ACCOUNT, "us-east-1");
      byte[] document = instance.document();
      Map<String, String> body = new LinkedHashMap<>();
      body.put("csr", CsrBuilder.build(KeySpec.EC_P256.generate(), RenewalCa.SUBJECT,
          List.of(RenewalCa.SUBJECT)));
      body.put("ott", AwsTokenBuilder.build(ca.url().toString(), RenewalCa.PROVISIONER,
          RenewalCa.SUBJECT, List.of(RenewalCa.SUBJECT), document,
          AwsTestSigner.generate().signRsa2048(document), Instant.now()));
      CaClient client = new CaClient(ca.url(), ca.root(), Duration.ofSeconds(10));

      CaClient.Response response = client.post("/1.0/sign", StreamingJson.write(body));

      assertThat(response.status()).isEqualTo(401);
      assertThat(response.body().path("requestId").asText("")).isNotEmpty();
      assertThat(response.message()).isNotEqualTo("HTTP 401");
    }
  }

  private static X509Certificate leaf(CaClient.Response response) throws Exception {
    return Pem.parseCertificates(response.body().path("crt").asText()
        .getBytes(StandardCharsets.US_ASCII)).get(0);
  }
}
