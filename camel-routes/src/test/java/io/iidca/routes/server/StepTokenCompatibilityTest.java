package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.Fingerprints;
import io.iidca.ca.pki.KeySpec;
import io.iidca.routes.client.CaClient;
import io.iidca.routes.client.CsrBuilder;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsTestSigner;
import io.iidca.testkit.pki.TestCa;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A token built field by field as step's client builds one for an AWS provisioner (smallstep
 * certificates, authority/provisioner/aws.go, awsPayload): HS256 keyed with the raw
 * {@code /signature} bytes, {@code typ} JWT, issuer {@code ec2.amazonaws.com}, an audience list,
 * {@code amazon.document} and {@code amazon.signature} as base64 of the raw bytes, and a jti
 * that is the hex SHA-256 of "aws/NAME.INSTANCE_ID", so it is the same for every token of
 * one instance.
 */
class StepTokenCompatibilityTest {

  @TempDir
  Path directory;

  @Test
  void stepTokenEnrollsInstanceOnce() throws Exception {
    AwsTestSigner signer = AwsTestSigner.generate();
    TestCa ca = TestCa.create(directory);
    String certificates = ca.writeCertificates("emulator", signer.certificates());
    ca.addProvisioner(new ProvisionerConfig("step-aws", "AWS", Lifetime.DEFAULT, false, false,
        null, List.of("123456789012"), ProvisionerConfig.DEFAULT_AWS_FORMS,
        List.of(certificates)));
    CaRuntime runtime = CaRuntime.load(ca.files(), ca.config(), TestCa.PASSWORD,
        Clock.systemUTC());
    try (CaServer server = CaServer.start(runtime, ListenAddress.parse("127.0.0.1:0"))) {
      String caUrl = "https://localhost:" + server.port();
      CaClient client = new CaClient(URI.create(caUrl), ca.root(), Duration.ofSeconds(5));
      AwsInstance instance = AwsInstance.random("123456789012", "us-west-2");

      CaClient.Response first = client.post("/1.0/sign", stepRequest(signer, instance,
          caUrl));
      CaClient.Response second = client.post("/1.0/sign", stepRequest(signer, instance,
          caUrl));

      assertThat(first.status()).isEqualTo(201);
      assertThat(second.status()).isEqualTo(403);
      assertThat(second.message()).contains("already enrolled");
      assertThat(server.runtime().store().certificatesOf("step-aws", instance.instanceId()))
          .hasSize(1);
    }
  }

  private static Map<String, Object> stepRequest(AwsTestSigner signer, AwsInstance instance,
      String caUrl) throws Exception {
    byte[] document = instance.document();
    byte[] signature = signer.signSignature(document);
    Instant now = Instant.now();
    String jti = Fingerprints.sha256Hex(("aws/step-aws." + instance.instanceId())
        .getBytes(StandardCharsets.UTF_8));
    JWTClaimsSet claims = new JWTClaimsSet.Builder()
        .issuer("ec2.amazonaws.com")
        .subject("step.internal")
        .audience(List.of(caUrl + "/1.0/sign#aws/step-aws"))
        .expirationTime(Date.from(now.plus(Duration.ofMinutes(5))))
        .notBeforeTime(Date.from(now))
        .issueTime(Date.from(now))
        .jwtID(jti)
        .claim("amazon", Map.of(
            "document", Base64.getEncoder().encodeToString(document),
            "signature", Base64.getEncoder().encodeToString(signature)))
        .claim("sans", List.of("step.internal"))
        .build();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256)
        .type(JOSEObjectType.JWT).build(), claims);
    jwt.sign(new MACSigner(signature));
    String csr = CsrBuilder.build(KeySpec.EC_P256.generate(), "step.internal",
        List.of("step.internal"));
    return Map.of("csr", csr, "ott", jwt.serialize());
  }
}
