package io.iidca.ca.pki;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Pem#encode}: certificates and CRLs, which it encodes itself, give the same text as
 * Bouncy Castle's PEM writer, and the text parses back. Other objects still go to that writer.
 */
class PemTest {

  static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);
  static X509Certificate root;
  static X509Certificate intermediate;
  static Issuer issuer;

  @BeforeAll
  static void createCa() {
    KeyPair rootKeys = KeySpec.EC_P256.generate();
    root = CaCertificates.root("Pem Test", rootKeys, NOW);
    KeyPair intermediateKeys = KeySpec.EC_P256.generate();
    intermediate = CaCertificates.intermediate("Pem Test", intermediateKeys.getPublic(), root,
        rootKeys.getPrivate(), NOW);
    issuer = new Issuer(intermediateKeys.getPrivate(), intermediate, root);
  }

  static String bouncyCastlePem(Object... objects) throws Exception {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      for (Object object : objects) {
        writer.writeObject(object);
      }
    }
    return out.toString();
  }

  X509Certificate leaf() {
    return issuer.issue(new CertificateTemplate("app.internal", List.of("app.internal"),
        KeySpec.EC_P256.generate().getPublic(), NOW, NOW.plus(Duration.ofHours(1)), null));
  }

  @Test
  void chainMatchesBouncyCastle() throws Exception {
    X509Certificate leaf = leaf();

    String pem = Pem.encodeChain(List.of(leaf, intermediate));

    assertThat(pem).isEqualTo(bouncyCastlePem(leaf, intermediate));
    assertThat(pem).startsWith("-----BEGIN CERTIFICATE-----\n");
    assertThat(pem).endsWith("-----END CERTIFICATE-----\n");
    assertThat(pem.lines().filter(line -> !line.startsWith("-----")))
        .allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(64));
    assertThat(Pem.parseCertificates(pem.getBytes(StandardCharsets.US_ASCII)))
        .containsExactly(leaf, intermediate);
  }

  @Test
  void crlMatchesBouncyCastle() throws Exception {
    X509CRL crl = new CrlSigner(issuer).sign(List.of(), NOW);

    String pem = Pem.encode(crl);

    assertThat(pem).isEqualTo(bouncyCastlePem(crl));
    assertThat(pem).startsWith("-----BEGIN X509 CRL-----\n");
  }

  @Test
  void csrStillUsesBouncyCastle() throws Exception {
    KeyPair keys = KeySpec.EC_P256.generate();
    PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(
        new X500Name("CN=app.internal"), keys.getPublic())
        .build(CaCertificates.signer(keys.getPrivate()));

    assertThat(Pem.encode(csr)).isEqualTo(bouncyCastlePem(csr));
  }
}
