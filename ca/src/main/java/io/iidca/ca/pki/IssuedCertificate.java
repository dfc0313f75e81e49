package io.iidca.ca.pki;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;

/**
 * A certificate as {@link Issuer#sign} built it: its DER, and the fields the sign path reads,
 * taken from the values the issuer encoded. The sign path reads them without parsing the
 * certificate it has just built. In the sign path's profile, that parse took about 7% of the
 * CPU samples. {@link #x509()} parses the certificate on first use.
 *
 * <p>Thread-safe: immutable apart from values computed once.
 */
public final class IssuedCertificate {

  private final byte[] der;
  private final BigInteger serialNumber;
  private final Instant notBefore;
  private final Instant notAfter;
  private final PublicKey publicKey;
  private volatile String pem;
  private volatile String keyFingerprint;
  private volatile X509Certificate x509;

  IssuedCertificate(byte[] der, BigInteger serialNumber, Instant notBefore, Instant notAfter,
      PublicKey publicKey) {
    this.der = der;
    this.serialNumber = serialNumber;
    this.notBefore = notBefore;
    this.notAfter = notAfter;
    this.publicKey = publicKey;
  }

  /**
   * Returns a recorded certificate in this form, such as one that the CA sends again for a
   * repeated request.
   *
   * @throws IllegalArgumentException if the certificate cannot be encoded
   */
  public static IssuedCertificate of(X509Certificate certificate) {
    byte[] der;
    try {
      der = certificate.getEncoded();
    } catch (CertificateEncodingException e) {
      throw new IllegalArgumentException("cannot encode certificate "
          + certificate.getSerialNumber().toString(16) + ": " + e.getMessage(), e);
    }
    IssuedCertificate issued = new IssuedCertificate(der, certificate.getSerialNumber(),
        certificate.getNotBefore().toInstant(), certificate.getNotAfter().toInstant(),
        certificate.getPublicKey());
    issued.x509 = certificate;
    return issued;
  }

  public BigInteger serialNumber() {
    return serialNumber;
  }

  /** Returns the notBefore as encoded: whole seconds. */
  public Instant notBefore() {
    return notBefore;
  }

  /** Returns the notAfter as encoded: whole seconds, within the intermediate's validity. */
  public Instant notAfter() {
    return notAfter;
  }

  public PublicKey publicKey() {
    return publicKey;
  }

  /** Returns a copy of the DER encoding. */
  public byte[] encoded() {
    return der.clone();
  }

  /** Returns the certificate in PEM, encoded on first use. */
  public String pem() {
    String value = pem;
    if (value == null) {
      value = Pem.encodeCertificate(der);
      pem = value;
    }
    return value;
  }

  /** Returns the SHA-256 fingerprint of the public key, as {@link Fingerprints#of(PublicKey)}. */
  public String keyFingerprint() {
    String value = keyFingerprint;
    if (value == null) {
      value = Fingerprints.of(publicKey);
      keyFingerprint = value;
    }
    return value;
  }

  /**
   * Parses the certificate with the JDK's X.509 factory on first use.
   *
   * @throws IllegalStateException if the JDK cannot parse what the issuer built
   */
  public X509Certificate x509() {
    X509Certificate value = x509;
    if (value == null) {
      try {
        value = (X509Certificate) CertificateFactory.getInstance("X.509")
            .generateCertificate(new ByteArrayInputStream(der));
      } catch (CertificateException e) {
        throw new IllegalStateException("cannot parse the certificate just signed, serial "
            + serialNumber.toString(16) + ": " + e.getMessage(), e);
      }
      x509 = value;
    }
    return value;
  }
}
