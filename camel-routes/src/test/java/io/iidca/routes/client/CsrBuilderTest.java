package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.pki.Providers;
import java.security.KeyPair;
import java.util.List;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link CsrBuilder}: for each key type that the client generates, the request carries the
 * subject, the signature algorithm's OID (ecdsa-with-SHA256 or -SHA384, sha256WithRSAEncryption,
 * Ed25519), and a signature that verifies with its key.
 */
class CsrBuilderTest {

  @ParameterizedTest(name = "{0} {1} {2}")
  @CsvSource({
      "EC, P-256, , 1.2.840.10045.4.3.2",
      "EC, P-384, , 1.2.840.10045.4.3.3",
      "EC, P-521, , 1.2.840.10045.4.3.3",
      "RSA, , 2048, 1.2.840.113549.1.1.11",
      "OKP, Ed25519, , 1.3.101.112",
  })
  void requestIsSignedWithKeyTypeAlgorithm(String kty, String curve, Integer size,
      String expectedAlgorithmOid) throws Exception {
    KeyPair keys = KeySpec.of(kty, curve, size).generateWithInstalledProviders();

    PKCS10CertificationRequest csr = Pem.parseCsr(
        CsrBuilder.build(keys, "app.internal", List.of("app.internal")));

    assertThat(csr.getSubject().toString()).isEqualTo("CN=app.internal");
    assertThat(csr.getSignatureAlgorithm().getAlgorithm().getId())
        .isEqualTo(expectedAlgorithmOid);
    // Bouncy Castle's provider, because the verifier looks up the key factory by the key's OID,
    // which the JDK's providers do not all register.
    assertThat(csr.isSignatureValid(new JcaContentVerifierProviderBuilder()
        .setProvider(Providers.bouncyCastle())
        .build(csr.getSubjectPublicKeyInfo()))).isTrue();
  }

  /**
   * Covers subjects that Bouncy Castle's name builder does not take verbatim from a string: it
   * reads a value that starts with # as hex DER, and drops the backslash of a leading \\#.
   */
  @ParameterizedTest
  @ValueSource(strings = {"#41@example.com", "\\#x@example.com"})
  void subjectBecomesCommonNameVerbatim(String subject) throws Exception {
    KeyPair keys = KeySpec.EC_P256.generateWithInstalledProviders();

    PKCS10CertificationRequest csr = Pem.parseCsr(CsrBuilder.build(keys, subject, List.of()));

    RDN[] commonNames = csr.getSubject().getRDNs(BCStyle.CN);
    assertThat(commonNames).hasSize(1);
    assertThat(commonNames[0].getFirst().getValue()).isEqualTo(new DERUTF8String(subject));
  }
}
