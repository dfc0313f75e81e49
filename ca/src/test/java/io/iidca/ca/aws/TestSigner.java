package io.iidca.ca.aws;

import io.iidca.ca.pki.Providers;
import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.SignerInfoGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/**
 * A key pair generated for one test run and its self-signed certificate, which signs documents
 * in the AWS forms. No key is stored anywhere.
 */
final class TestSigner {

  private static final Instant NOT_BEFORE = Instant.parse("2010-01-01T00:00:00Z");
  private static final Instant NOT_AFTER = Instant.parse("2100-01-01T00:00:00Z");

  final KeyPair keyPair;
  final X509Certificate certificate;

  private TestSigner(KeyPair keyPair, X509Certificate certificate) {
    this.keyPair = keyPair;
    this.certificate = certificate;
  }

  /** Generates a key of {@code algorithm} ("RSA" or "DSA") valid from 2010 to 2100. */
  static TestSigner generate(String algorithm, int bits) {
    return generate(algorithm, bits, NOT_BEFORE, NOT_AFTER);
  }

  static TestSigner generate(String algorithm, int bits, Instant notBefore, Instant notAfter) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
      generator.initialize(bits);
      KeyPair keyPair = generator.generateKeyPair();
      X500Name name = new X500Name("CN=iidca test " + algorithm + "-" + bits);
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name,
          BigInteger.valueOf(System.nanoTime()).abs().add(BigInteger.ONE), Date.from(notBefore),
          Date.from(notAfter), name, keyPair.getPublic());
      String signatureAlgorithm = algorithm.equals("DSA") ? "SHA256withDSA" : "SHA256withRSA";
      X509Certificate certificate = new JcaX509CertificateConverter()
          .setProvider(Providers.bouncyCastle())
          .getCertificate(builder.build(new JcaContentSignerBuilder(signatureAlgorithm)
              .setProvider(Providers.bouncyCastle()).build(keyPair.getPrivate())));
      return new TestSigner(keyPair, certificate);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Signs as EC2's /rsa2048 does: attached content, signed attributes, no certificate. */
  byte[] cms(byte[] content) {
    return cms(content, "SHA256withRSA", true, true, false);
  }

  /**
   * Signs {@code content} as CMS SignedData with this key.
   *
   * @param attached whether the content is encapsulated
   * @param signedAttributes whether the signer has signed attributes (else a direct signature)
   * @param embedCertificate whether the certificate is carried in the SignedData
   */
  byte[] cms(byte[] content, String algorithm, boolean attached, boolean signedAttributes,
      boolean embedCertificate) {
    try {
      CMSSignedDataGenerator generator = new CMSSignedDataGenerator();
      generator.addSignerInfoGenerator(signerInfo(algorithm, signedAttributes));
      if (embedCertificate) {
        generator.addCertificates(new JcaCertStore(List.of(certificate)));
      }
      return generator.generate(new CMSProcessableByteArray(content), attached).getEncoded();
    } catch (GeneralSecurityException | OperatorCreationException | CMSException
        | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Signs {@code content} with two signers, this one and {@code other}. */
  byte[] cmsWithTwoSigners(byte[] content, TestSigner other) {
    try {
      CMSSignedDataGenerator generator = new CMSSignedDataGenerator();
      generator.addSignerInfoGenerator(signerInfo("SHA256withRSA", true));
      generator.addSignerInfoGenerator(other.signerInfo("SHA256withRSA", true));
      return generator.generate(new CMSProcessableByteArray(content), true).getEncoded();
    } catch (OperatorCreationException | CMSException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Signs {@code content} with a bare signature, as EC2's /signature does with SHA256withRSA. */
  byte[] raw(byte[] content, String algorithm) {
    try {
      Signature signature = Signature.getInstance(algorithm, Providers.bouncyCastle());
      signature.initSign(keyPair.getPrivate());
      signature.update(content);
      return signature.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private SignerInfoGenerator signerInfo(String algorithm, boolean signedAttributes)
      throws OperatorCreationException {
    try {
      return new JcaSignerInfoGeneratorBuilder(new JcaDigestCalculatorProviderBuilder()
          .setProvider(Providers.bouncyCastle()).build())
          .setDirectSignature(!signedAttributes)
          .build(new JcaContentSignerBuilder(algorithm).setProvider(Providers.bouncyCastle())
              .build(keyPair.getPrivate()), certificate);
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }
}
