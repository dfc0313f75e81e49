package io.iidca.ca.pki;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.junit.jupiter.api.Test;

/** Issued certificates name the CRL and the OCSP responder only where they are configured. */
class IssuerStatusUrlsTest {

  static final String CRL = "https://ca.example/1.0/crl";
  static final String OCSP = "https://ca.example/ocsp";

  static X509Certificate issue(String crlUrl, String ocspUrl) {
    Instant now = Instant.now();
    KeyPair rootKeys = KeySpec.EC_P256.generate();
    X509Certificate root = CaCertificates.root("Status", rootKeys, now);
    KeyPair intermediateKeys = KeySpec.EC_P256.generate();
    X509Certificate intermediate = CaCertificates.intermediate("Status",
        intermediateKeys.getPublic(), root, rootKeys.getPrivate(), now);
    Issuer issuer = new Issuer(intermediateKeys.getPrivate(), intermediate, root, crlUrl,
        ocspUrl);
    return issuer.issue(new CertificateTemplate("app.internal", List.of("app.internal"),
        KeySpec.EC_P256.generate().getPublic(), now, now.plus(Duration.ofHours(1)), null));
  }

  @Test
  void configuredUrlsAppearInCertificate() throws Exception {
    X509Certificate certificate = issue(CRL, OCSP);

    CRLDistPoint points = CRLDistPoint.getInstance(ASN1OctetString.getInstance(
        certificate.getExtensionValue(Extension.cRLDistributionPoints.getId())).getOctets());
    GeneralName crl = GeneralNames.getInstance(points.getDistributionPoints()[0]
        .getDistributionPoint().getName()).getNames()[0];
    assertThat(crl.getTagNo()).isEqualTo(GeneralName.uniformResourceIdentifier);
    assertThat(crl.getName().toString()).isEqualTo(CRL);

    AuthorityInformationAccess access = AuthorityInformationAccess.getInstance(
        ASN1OctetString.getInstance(certificate.getExtensionValue(
            Extension.authorityInfoAccess.getId())).getOctets());
    AccessDescription ocsp = access.getAccessDescriptions()[0];
    assertThat(ocsp.getAccessMethod()).isEqualTo(AccessDescription.id_ad_ocsp);
    assertThat(ocsp.getAccessLocation().getName().toString()).isEqualTo(OCSP);
  }

  @Test
  void withoutUrlsNoStatusExtensions() {
    X509Certificate certificate = issue(null, null);

    assertThat(certificate.getExtensionValue(Extension.cRLDistributionPoints.getId()))
        .isNull();
    assertThat(certificate.getExtensionValue(Extension.authorityInfoAccess.getId())).isNull();
  }
}
