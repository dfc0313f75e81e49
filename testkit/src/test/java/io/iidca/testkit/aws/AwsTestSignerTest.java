package io.iidca.testkit.aws;

import static org.assertj.core.api.Assertions.assertThat;

import io.iidca.ca.pki.Pem;
import io.iidca.ca.pki.Providers;
import java.nio.charset.StandardCharsets;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.interfaces.DSAPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.oiw.OIWObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.SignerInformationVerifier;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AwsTestSignerTest {

  private static final byte[] DOCUMENT =
      "{\n  \"accountId\" : \"111122223333\"\n}".getBytes(StandardCharsets.UTF_8);

  private static AwsTestSigner signer;

  @BeforeAll
  static void generateSigner() {
    signer = AwsTestSigner.generate();
  }

  @Test
  void certificatesAreRsa2048ThenDsa1024() {
    List<X509Certificate> certificates = signer.certificates();

    assertThat(certificates).hasSize(2);
    assertThat(certificates.get(0).getPublicKey()).isInstanceOf(RSAPublicKey.class);
    assertThat(((RSAPublicKey) certificates.get(0).getPublicKey()).getModulus().bitLength())
        .isEqualTo(2048);
    assertThat(certificates.get(1).getPublicKey()).isInstanceOf(DSAPublicKey.class);
    assertThat(((DSAPublicKey) certificates.get(1).getPublicKey()).getParams().getP().bitLength())
        .isEqualTo(1024);
  }

  @Test
  void certificatesHaveTestSubjectAndValidity() throws Exception {
    Instant now = Instant.now();
    for (X509Certificate certificate : signer.certificates()) {
      String subject = certificate.getSubjectX500Principal().getName();
      assertThat(subject).isEqualTo("O=iidca test emulator,L=Seattle,ST=Washington State,C=US");
      assertThat(certificate.getIssuerX500Principal()).isEqualTo(
          certificate.getSubjectX500Principal());
      assertThat(certificate.getNotBefore().toInstant()).isBefore(now.minus(23, ChronoUnit.HOURS));
      assertThat(certificate.getNotAfter().toInstant()).isAfter(now.plus(3650, ChronoUnit.DAYS));
      assertThat(certificate.getSerialNumber().bitLength()).isEqualTo(64);
      certificate.verify(certificate.getPublicKey());
    }
  }

  @Test
  void certificatesPemParsesToCertificates() throws Exception {
    List<X509Certificate> parsed =
        Pem.parseCertificates(signer.certificatesPem().getBytes(StandardCharsets.US_ASCII));

    assertThat(parsed).containsExactlyElementsOf(signer.certificates());
  }

  @Test
  void generatedSignersHaveDistinctKeys() {
    AwsTestSigner other = AwsTestSigner.generate();

    assertThat(other.rsaCertificate().getPublicKey())
        .isNotEqualTo(signer.rsaCertificate().getPublicKey());
    assertThat(other.dsaCertificate().getPublicKey())
        .isNotEqualTo(signer.dsaCertificate().getPublicKey());
  }

  @Test
  void rsa2048IsRsaSha256Cms() throws Exception {
    CMSSignedData cms = new CMSSignedData(signer.signRsa2048(DOCUMENT));
    SignerInformation signerInfo = cms.getSignerInfos().getSigners().iterator().next();

    assertThat((byte[]) cms.getSignedContent().getContent()).isEqualTo(DOCUMENT);
    assertThat(cms.getCertificates().getMatches(null)).isEmpty();
    assertThat(signerInfo.getDigestAlgOID()).isEqualTo(NISTObjectIdentifiers.id_sha256.getId());
    assertThat(signerInfo.getEncryptionAlgOID())
        .isEqualTo(PKCSObjectIdentifiers.rsaEncryption.getId());
    assertThat(signerInfo.verify(verifierFor(signer.rsaCertificate()))).isTrue();
  }

  @Test
  void pkcs7IsDsaSha1Cms() throws Exception {
    CMSSignedData cms = new CMSSignedData(signer.signPkcs7(DOCUMENT));
    SignerInformation signerInfo = cms.getSignerInfos().getSigners().iterator().next();

    assertThat((byte[]) cms.getSignedContent().getContent()).isEqualTo(DOCUMENT);
    assertThat(cms.getCertificates().getMatches(null)).isEmpty();
    assertThat(signerInfo.getDigestAlgOID()).isEqualTo(OIWObjectIdentifiers.idSHA1.getId());
    assertThat(signerInfo.getEncryptionAlgOID())
        .isEqualTo(X9ObjectIdentifiers.id_dsa_with_sha1.getId());
    assertThat(signerInfo.verify(verifierFor(signer.dsaCertificate()))).isTrue();
  }

  @Test
  void cmsSignedAttributesMatchEc2() throws Exception {
    for (byte[] der : List.of(signer.signRsa2048(DOCUMENT), signer.signPkcs7(DOCUMENT))) {
      SignerInformation signerInfo =
          new CMSSignedData(der).getSignerInfos().getSigners().iterator().next();

      ASN1EncodableVector attributes = signerInfo.getSignedAttributes().toASN1EncodableVector();
      List<ASN1ObjectIdentifier> types = new ArrayList<>();
      for (int i = 0; i < attributes.size(); i++) {
        types.add(Attribute.getInstance(attributes.get(i)).getAttrType());
      }

      assertThat(types).containsExactlyInAnyOrder(
          CMSAttributes.contentType, CMSAttributes.signingTime, CMSAttributes.messageDigest);
    }
  }

  @Test
  void signatureVerifiesAsSha256WithRsa() throws Exception {
    byte[] signature = signer.signSignature(DOCUMENT);

    assertThat(signature).hasSize(256);
    assertThat(verifyRsa(DOCUMENT, signature)).isTrue();
  }

  @Test
  void signatureFailsOnChangedDocument() throws Exception {
    byte[] signature = signer.signSignature(DOCUMENT);
    byte[] changed = DOCUMENT.clone();
    changed[5] ^= 1;

    assertThat(verifyRsa(changed, signature)).isFalse();
  }

  @Test
  void base64LinesWrapsAt76() {
    byte[] data = new byte[200];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) i;
    }

    String text = AwsTestSigner.base64Lines(data);

    assertThat(text.split("\n")).extracting(String::length).containsExactly(76, 76, 76, 40);
    assertThat(text).doesNotEndWith("\n").doesNotContain("\r").doesNotContain("-----");
    assertThat(Base64.getMimeDecoder().decode(text)).isEqualTo(data);
  }

  @Test
  void base64LinesOfShortInputIsOneLine() {
    assertThat(AwsTestSigner.base64Lines(new byte[] {1, 2, 3})).isEqualTo("AQID");
  }

  private static boolean verifyRsa(byte[] document, byte[] signature) throws Exception {
    Signature verifier = Signature.getInstance("SHA256withRSA");
    verifier.initVerify(signer.rsaCertificate().getPublicKey());
    verifier.update(document);
    return verifier.verify(signature);
  }

  private static SignerInformationVerifier verifierFor(X509Certificate certificate)
      throws Exception {
    return new JcaSimpleSignerInfoVerifierBuilder()
        .setProvider(Providers.bouncyCastle())
        .build(certificate);
  }
}
