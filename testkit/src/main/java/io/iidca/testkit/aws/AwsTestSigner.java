package io.iidca.testkit.aws;

import io.iidca.ca.pki.Pem;
import io.iidca.ca.pki.Providers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.cms.Time;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.cms.CMSAttributeTableGenerator;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.DefaultSignedAttributeTableGenerator;
import org.bouncycastle.cms.SignerInfoGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/**
 * Test signing keys and self-signed certificates that stand in for the ones AWS signs instance
 * identity documents with, as described in the AWS EC2 user guide page "Verify the instance
 * identity document for an Amazon EC2 instance".
 *
 * <p>Each instance generates, in memory, an RSA-2048 key for the {@code /rsa2048} and {@code
 * /signature} forms and a DSA-1024 key for the {@code /pkcs7} form. The certificates have
 * AWS's subject with {@code O=iidca test emulator} in place of AWS's organization, a random
 * 64-bit serial, and validity from one day ago to ten years ahead. The CMS outputs match AWS's
 * shape: encapsulated content, no embedded certificates, signed attributes contentType,
 * signingTime and messageDigest only.
 *
 * <p>NOTE: AWS signs {@code /signature} with an RSA key of its own (a 1024-bit key, going by the
 * 128-byte signatures that EC2 serves), not with its RSA-2048 key. This signer uses its RSA-2048
 * key for both, so a CA under test trusts one certificate for both forms.
 *
 * <p>The private keys exist only in memory and no method returns them. Thread-safe: every
 * signing call uses its own JCA objects.
 */
public final class AwsTestSigner {

  /**
   * Line width of the base64 text that EC2 serves for {@code /rsa2048}, {@code /pkcs7} and
   * {@code /signature}, as seen in responses captured from EC2 instances.
   */
  public static final int BASE64_LINE_LENGTH = 76;

  private static final String ORGANIZATION = "iidca test emulator";
  private static final Duration BACKDATE = Duration.ofDays(1);
  private static final int VALIDITY_YEARS = 10;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final KeyPair rsaKey;
  private final KeyPair dsaKey;
  private final X509Certificate rsaCertificate;
  private final X509Certificate dsaCertificate;

  private AwsTestSigner(KeyPair rsaKey, KeyPair dsaKey) throws GeneralSecurityException {
    this.rsaKey = rsaKey;
    this.dsaKey = dsaKey;
    this.rsaCertificate = selfSign(rsaKey, "SHA256withRSA");
    this.dsaCertificate = selfSign(dsaKey, "SHA1withDSA");
  }

  /** Generates fresh RSA-2048 and DSA-1024 keys and their certificates. */
  public static AwsTestSigner generate() {
    try {
      KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
      rsa.initialize(2048, RANDOM);
      // The JDK's SUN provider, first in the provider list, has precomputed 1024-bit DSA domain
      // parameters, so generating the key takes milliseconds.
      KeyPairGenerator dsa = KeyPairGenerator.getInstance("DSA");
      dsa.initialize(1024, RANDOM);
      return new AwsTestSigner(rsa.generateKeyPair(), dsa.generateKeyPair());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("aws-test-signer: key generation failed: " + e, e);
    }
  }

  /** Returns the certificates that a CA under test must trust: RSA first, then DSA. */
  public List<X509Certificate> certificates() {
    return List.of(rsaCertificate, dsaCertificate);
  }

  /** Returns {@link #certificates()} as PEM text, RSA first. */
  public String certificatesPem() {
    return Pem.encodeChain(certificates());
  }

  /** Returns the self-signed certificate of the RSA-2048 key. */
  public X509Certificate rsaCertificate() {
    return rsaCertificate;
  }

  /** Returns the self-signed certificate of the DSA-1024 key. */
  public X509Certificate dsaCertificate() {
    return dsaCertificate;
  }

  /**
   * Signs a document as EC2's {@code /rsa2048} does: DER CMS SignedData (RFC 5652) with SHA-256
   * and RSA PKCS#1 v1.5, the document encapsulated, no certificates embedded.
   */
  public byte[] signRsa2048(byte[] document) {
    return signCms(document, rsaKey.getPrivate(), "SHA256withRSA", rsaCertificate);
  }

  /**
   * Signs a document as EC2's {@code /signature} does: a raw RSA PKCS#1 v1.5 signature over the
   * SHA-256 digest of the document bytes. EC2 serves these bytes base64-encoded.
   */
  public byte[] signSignature(byte[] document) {
    try {
      Signature signature = Signature.getInstance("SHA256withRSA", Providers.bouncyCastle());
      signature.initSign(rsaKey.getPrivate());
      signature.update(document);
      return signature.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("aws-test-signer: RSA signature failed: " + e, e);
    }
  }

  /**
   * Signs a document as EC2's {@code /pkcs7} does: DER CMS SignedData (RFC 5652) with DSA and
   * SHA-1, the document encapsulated, no certificates embedded.
   */
  public byte[] signPkcs7(byte[] document) {
    return signCms(document, dsaKey.getPrivate(), "SHA1withDSA", dsaCertificate);
  }

  /**
   * Encodes bytes as base64 in lines of {@value #BASE64_LINE_LENGTH} characters separated by
   * {@code \n}, without PEM armour and without a trailing newline, as EC2 serves {@code
   * /rsa2048}, {@code /pkcs7} and {@code /signature}.
   */
  public static String base64Lines(byte[] der) {
    byte[] separator = "\n".getBytes(StandardCharsets.US_ASCII);
    return Base64.getMimeEncoder(BASE64_LINE_LENGTH, separator).encodeToString(der);
  }

  private static byte[] signCms(
      byte[] document, PrivateKey key, String algorithm, X509Certificate certificate) {
    try {
      ContentSigner signer =
          new JcaContentSignerBuilder(algorithm).setProvider(Providers.bouncyCastle()).build(key);
      SignerInfoGenerator signerInfo = new JcaSignerInfoGeneratorBuilder(
          new JcaDigestCalculatorProviderBuilder().setProvider(Providers.bouncyCastle()).build(),
          AwsTestSigner::ec2SignatureAlgorithm)
          .setSignedAttributeGenerator(new AwsSignedAttributes())
          .build(signer, certificate);
      CMSSignedDataGenerator generator = new CMSSignedDataGenerator();
      generator.addSignerInfoGenerator(signerInfo);
      return generator.generate(new CMSProcessableByteArray(document), true).getEncoded("DER");
    } catch (OperatorCreationException | GeneralSecurityException | CMSException e) {
      throw new IllegalStateException(
          "aws-test-signer: CMS " + algorithm + " signature failed: " + e, e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Names an RSA PKCS#1 v1.5 SHA-256 signature rsaEncryption in the SignerInfo, as EC2's
   * {@code /rsa2048} does; Bouncy Castle 1.87 would write sha256WithRSAEncryption. Other
   * algorithms, DSA with SHA-1 among them, keep their identifier.
   */
  private static AlgorithmIdentifier ec2SignatureAlgorithm(AlgorithmIdentifier algorithm) {
    if (algorithm.getAlgorithm().equals(PKCSObjectIdentifiers.sha256WithRSAEncryption)) {
      return new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE);
    }
    return algorithm;
  }

  /**
   * The signed attributes that EC2's CMS signatures carry: contentType, signingTime and
   * messageDigest. Bouncy Castle's {@link DefaultSignedAttributeTableGenerator} would add a
   * CMSAlgorithmProtection attribute (RFC 6211) that EC2's signatures lack.
   */
  private static final class AwsSignedAttributes implements CMSAttributeTableGenerator {
    @Override
    public AttributeTable getAttributes(@SuppressWarnings("rawtypes") Map parameters) {
      ASN1ObjectIdentifier contentType = (ASN1ObjectIdentifier) parameters.get(CONTENT_TYPE);
      byte[] digest = (byte[]) parameters.get(DIGEST);
      ASN1EncodableVector attributes = new ASN1EncodableVector();
      attributes.add(new Attribute(CMSAttributes.contentType, new DERSet(contentType)));
      attributes.add(
          new Attribute(CMSAttributes.signingTime, new DERSet(new Time(new Date()))));
      attributes.add(
          new Attribute(CMSAttributes.messageDigest, new DERSet(new DEROctetString(digest))));
      return new AttributeTable(attributes);
    }
  }

  private static X509Certificate selfSign(KeyPair key, String algorithm)
      throws GeneralSecurityException {
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.C, "US")
        .addRDN(BCStyle.ST, "Washington State")
        .addRDN(BCStyle.L, "Seattle")
        .addRDN(BCStyle.O, ORGANIZATION)
        .build();
    Instant now = Instant.now();
    Date notBefore = Date.from(now.minus(BACKDATE));
    Date notAfter = Date.from(now.atOffset(ZoneOffset.UTC).plusYears(VALIDITY_YEARS).toInstant());
    BigInteger serial = new BigInteger(64, RANDOM).setBit(63);
    JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
    try {
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
          subject, serial, notBefore, notAfter, subject, key.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
          .addExtension(Extension.keyUsage, false, new KeyUsage(KeyUsage.digitalSignature))
          .addExtension(Extension.subjectKeyIdentifier, false,
              extensions.createSubjectKeyIdentifier(key.getPublic()));
      ContentSigner signer = new JcaContentSignerBuilder(algorithm)
          .setProvider(Providers.bouncyCastle())
          .build(key.getPrivate());
      return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    } catch (OperatorCreationException | IOException e) {
      throw new GeneralSecurityException(
          "aws-test-signer: self-signed " + algorithm + " certificate failed: " + e, e);
    }
  }
}
