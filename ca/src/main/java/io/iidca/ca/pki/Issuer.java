package io.iidca.ca.pki;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.asn1.ASN1GeneralizedTime;
import org.bouncycastle.asn1.ASN1UTCTime;
import org.bouncycastle.asn1.BERTags;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.DistributionPoint;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.Time;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Signs end-entity certificates with the intermediate CA's key. Each certificate is built from a
 * {@link CertificateTemplate} alone: subject CN, SANs, keyUsage digitalSignature (plus
 * keyEncipherment for RSA keys), extendedKeyUsage serverAuth and clientAuth, basicConstraints
 * CA:false, key identifiers, a 127-bit serial that starts with the time of signing and ends
 * with 84 random bits ({@link CaCertificates#timeOrderedSerial}), and the
 * {@link IidcaExtension}.
 *
 * <p>Signatures go through {@link Providers#signatures()} when it accepts the key, with the
 * key converted to that provider's type once, else through Bouncy Castle.
 *
 * <p>Thread-safe: every call builds its own signer.
 */
public final class Issuer {

  private static final DateTimeFormatter UTC_TIME =
      DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'", Locale.ROOT);
  private static final DateTimeFormatter GENERALIZED_TIME =
      DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'", Locale.ROOT);

  private final PrivateKey key;
  private final String signatureAlgorithm;
  private final Provider signatureProvider;
  private final X509Certificate certificate;
  private final X509Certificate root;
  private final X500Name issuerName;
  private final AuthorityKeyIdentifier authorityKeyIdentifier;
  private final String crlUrl;
  private final String ocspUrl;

  public Issuer(PrivateKey key, X509Certificate certificate, X509Certificate root) {
    this(key, certificate, root, null, null);
  }

  /**
   * An issuer whose certificates name where their status is published.
   *
   * @param crlUrl the CRL distribution point (RFC 5280, 4.2.1.13), or null
   * @param ocspUrl the OCSP responder in Authority Information Access (RFC 5280, 4.2.2.1), or
   *     null
   */
  public Issuer(PrivateKey key, X509Certificate certificate, X509Certificate root,
      String crlUrl, String ocspUrl) {
    this.crlUrl = crlUrl;
    this.ocspUrl = ocspUrl;
    this.signatureAlgorithm = CaCertificates.signatureAlgorithm(key);
    PrivateKey nativeKey = Providers.nativeKey(key);
    this.signatureProvider = Providers.signerFor(signatureAlgorithm, nativeKey);
    this.key = signatureProvider == Providers.bouncyCastle() ? key : nativeKey;
    this.certificate = certificate;
    this.root = root;
    this.issuerName = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
    try {
      this.authorityKeyIdentifier =
          new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(certificate);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot read the intermediate certificate's key", e);
    }
  }

  public X509Certificate certificate() {
    return certificate;
  }

  public X509Certificate root() {
    return root;
  }

  /**
   * Returns a new signer with the intermediate key, for CRLs and OCSP responses that the
   * intermediate signs itself (RFC 5280, 5; RFC 6960, 4.2.2.2).
   */
  public ContentSigner contentSigner() {
    try {
      return new JcaContentSignerBuilder(signatureAlgorithm).setProvider(signatureProvider)
          .build(key);
    } catch (OperatorCreationException e) {
      throw new IllegalStateException("cannot sign with the intermediate's "
          + key.getAlgorithm() + " key in " + signatureAlgorithm + " through "
          + signatureProvider.getName(), e);
    }
  }

  /** The chain a client installs beside its certificate: the intermediate. */
  public List<X509Certificate> chain() {
    return List.of(certificate);
  }

  /**
   * Signs a certificate for the template, with notAfter clipped to the intermediate's.
   *
   * @throws IllegalArgumentException if the clipped validity is empty, with notAfter not
   *     after notBefore. IssuancePolicy denies such enrollments first; a caller that builds
   *     its own template has to check the intermediate's notAfter too.
   */
  public X509Certificate issue(CertificateTemplate template) {
    return sign(template).x509();
  }

  /**
   * Signs a certificate for the template, as {@link #issue}, and returns it without parsing it
   * again: the sign path reads the fields it needs from the values encoded here.
   *
   * @throws IllegalArgumentException if the clipped validity is empty
   */
  public IssuedCertificate sign(CertificateTemplate template) {
    // A UTF8String value, because the builder's string form reads a leading # as hex DER and
    // drops the backslash of a leading \#, so the common name would differ from the checked
    // subject.
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.CN, new DERUTF8String(template.commonName())).build();
    PublicKey publicKey = template.publicKey();
    Instant notAfter = notAfterWithinIssuer(template.notAfter());
    if (!notAfter.isAfter(template.notBefore())) {
      throw new IllegalArgumentException("cannot sign certificate for "
          + template.commonName() + ": notBefore " + template.notBefore()
          + " is not before notAfter " + notAfter + ", which the intermediate's notAfter "
          + certificate.getNotAfter().toInstant() + " bounds");
    }
    BigInteger serial = CaCertificates.timeOrderedSerial(System.currentTimeMillis());
    try {
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuerName,
          serial, validityTime(template.notBefore()), validityTime(notAfter), subject,
          publicKey)
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, keyUsage(publicKey))
          .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
              new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
          .addExtension(Extension.subjectKeyIdentifier, false, subjectKeyIdentifier(publicKey))
          .addExtension(Extension.authorityKeyIdentifier, false, authorityKeyIdentifier);
      if (!template.sans().isEmpty()) {
        builder.addExtension(Extension.subjectAlternativeName, false,
            SubjectNames.toGeneralNames(template.sans()));
      }
      if (crlUrl != null) {
        builder.addExtension(Extension.cRLDistributionPoints, false, new CRLDistPoint(
            new DistributionPoint[] {new DistributionPoint(new DistributionPointName(
                new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier,
                    crlUrl))), null, null)}));
      }
      if (ocspUrl != null) {
        builder.addExtension(Extension.authorityInfoAccess, false, new AuthorityInformationAccess(
            AccessDescription.id_ad_ocsp, new GeneralName(GeneralName.uniformResourceIdentifier,
                ocspUrl)));
      }
      if (template.identity() != null) {
        builder.addExtension(IidcaExtension.OID, false,
            new DEROctetString(template.identity().encode()).getOctets());
      }
      byte[] der = builder.build(contentSigner()).getEncoded();
      return new IssuedCertificate(der, serial,
          template.notBefore().truncatedTo(ChronoUnit.SECONDS),
          notAfter.truncatedTo(ChronoUnit.SECONDS), publicKey);
    } catch (IOException e) {
      throw new IllegalStateException("cannot sign certificate for " + template.commonName(), e);
    }
  }

  /**
   * Encodes a validity date as RFC 5280, 4.1.2.5 requires: UTCTime through 2049, GeneralizedTime
   * from 2050, both in whole seconds (fractions are dropped) with Z. The time is built from its
   * DER encoding because Bouncy Castle's constructors that take a date or a string create or use
   * a {@code SimpleDateFormat} on every call, which the sign path's profile showed.
   */
  static Time validityTime(Instant instant) {
    ZonedDateTime utc = instant.atZone(ZoneOffset.UTC);
    boolean utcTime = utc.getYear() >= 1950 && utc.getYear() <= 2049;
    byte[] text = (utcTime ? UTC_TIME : GENERALIZED_TIME).format(utc)
        .getBytes(StandardCharsets.US_ASCII);
    byte[] der = new byte[text.length + 2];
    der[0] = (byte) (utcTime ? BERTags.UTC_TIME : BERTags.GENERALIZED_TIME);
    der[1] = (byte) text.length;
    System.arraycopy(text, 0, der, 2, text.length);
    return new Time(utcTime ? ASN1UTCTime.getInstance(der) : ASN1GeneralizedTime.getInstance(der));
  }

  /** A leaf never outlives its issuer: RFC 5280 path validation would reject it afterwards. */
  private Instant notAfterWithinIssuer(Instant requested) {
    Instant issuerEnd = certificate.getNotAfter().toInstant();
    return requested.isAfter(issuerEnd) ? issuerEnd : requested;
  }

  private static KeyUsage keyUsage(PublicKey key) {
    int bits = KeyUsage.digitalSignature;
    if (key.getAlgorithm().equals("RSA")) {
      bits |= KeyUsage.keyEncipherment;
    }
    return new KeyUsage(bits);
  }

  /** The SHA-1 of the subjectPublicKey bit string: method 1 of RFC 5280, 4.2.1.2. */
  private static SubjectKeyIdentifier subjectKeyIdentifier(PublicKey key) {
    try {
      return new JcaX509ExtensionUtils().createSubjectKeyIdentifier(key);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is required by every Java platform", e);
    }
  }
}
