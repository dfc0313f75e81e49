package io.iidca.ca.azure;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/**
 * A test root, intermediate and attested-document signer generated in memory, and a PKCS#7
 * signer shaped like IMDS's: SHA-256 with RSA, content attached, the signer certificate embedded.
 */
final class AzureTestPki {

  static final Instant NOT_BEFORE = Instant.parse("2020-01-01T00:00:00Z");
  static final Instant NOT_AFTER = Instant.parse("2040-01-01T00:00:00Z");

  final X509Certificate root;
  final X509Certificate intermediate;
  final X509Certificate signer;
  private final PrivateKey signerKey;

  private AzureTestPki(X509Certificate root, X509Certificate intermediate,
      X509Certificate signer, PrivateKey signerKey) {
    this.root = root;
    this.intermediate = intermediate;
    this.signer = signer;
    this.signerKey = signerKey;
  }

  /** Generates a chain whose signer has CN {@code signerName} and the same DNS name. */
  static AzureTestPki generate(String signerName) throws Exception {
    KeyPair rootKey = rsa();
    KeyPair intermediateKey = rsa();
    KeyPair signerKey = rsa();
    X509Certificate root = certificate("CN=Test Azure Root", rootKey, "CN=Test Azure Root",
        rootKey.getPrivate(), true, null);
    X509Certificate intermediate = certificate("CN=Test Azure Issuing CA", intermediateKey,
        "CN=Test Azure Root", rootKey.getPrivate(), true, null);
    X509Certificate signer = certificate("CN=" + signerName, signerKey,
        "CN=Test Azure Issuing CA", intermediateKey.getPrivate(), false, signerName);
    return new AzureTestPki(root, intermediate, signer, signerKey.getPrivate());
  }

  static KeyPair rsa() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    return generator.generateKeyPair();
  }

  private static X509Certificate certificate(String subject, KeyPair key, String issuer,
      PrivateKey issuerKey, boolean ca, String dnsName) throws Exception {
    X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(new X500Name(issuer),
        BigInteger.valueOf(System.nanoTime()), Date.from(NOT_BEFORE), Date.from(NOT_AFTER),
        new X500Name(subject), key.getPublic());
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(ca
        ? KeyUsage.keyCertSign | KeyUsage.cRLSign : KeyUsage.digitalSignature));
    if (dnsName != null) {
      builder.addExtension(Extension.subjectAlternativeName, false,
          new GeneralNames(new GeneralName(GeneralName.dNSName, dnsName)));
    }
    return new JcaX509CertificateConverter().getCertificate(
        builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(issuerKey)));
  }

  /** Returns the base64 PKCS#7 of {@code json}, as IMDS's {@code signature} field. */
  String sign(String json) throws Exception {
    CMSSignedDataGenerator generator = new CMSSignedDataGenerator();
    generator.addSignerInfoGenerator(new JcaSignerInfoGeneratorBuilder(
        new JcaDigestCalculatorProviderBuilder().build())
        .build(new JcaContentSignerBuilder("SHA256withRSA").build(signerKey), signer));
    generator.addCertificates(new JcaCertStore(List.of(signer)));
    byte[] der = generator.generate(
        new CMSProcessableByteArray(json.getBytes(StandardCharsets.UTF_8)), true)
        .getEncoded("DER");
    return Base64.getEncoder().encodeToString(der);
  }

  /** Returns attested content as IMDS writes it, with the timestamps in its format. */
  static String content(String nonce, String vmId, String subscriptionId, String createdOn,
      String expiresOn) {
    return "{\"licenseType\":\"\",\"nonce\":\"" + nonce + "\",\"plan\":{\"name\":\"\","
        + "\"product\":\"\",\"publisher\":\"\"},\"sku\":\"\",\"subscriptionId\":\""
        + subscriptionId + "\",\"timeStamp\":{\"createdOn\":\"" + createdOn
        + "\",\"expiresOn\":\"" + expiresOn + "\"},\"vmId\":\"" + vmId + "\"}";
  }
}
