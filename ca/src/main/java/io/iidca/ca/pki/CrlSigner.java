package io.iidca.ca.pki;

import io.iidca.ca.store.Revocation;
import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.ASN1Enumerated;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signs complete X.509 v2 CRLs (RFC 5280, section 5) with the intermediate CA's key, which
 * issued every leaf, so the CRL is direct and needs no issuing distribution point.
 *
 * <p>Each CRL contains: the intermediate's subject as issuer, thisUpdate = now, nextUpdate = now
 * plus the validity, the extensions CRL Number and Authority Key Identifier (both
 * non-critical), and one entry per revocation with its revocation date. An entry has a
 * reasonCode extension unless the reason is unspecified (0), because RFC 5280, 5.3.1, wants the
 * extension absent rather than set to unspecified. Times are truncated to whole seconds.
 *
 * <p>Not checked: whether a revoked certificate has expired. Expired entries stay on the CRL,
 * which RFC 5280, 5.2, allows, so the CRL grows with every revocation. No delta CRLs.
 *
 * <p>Thread-safe.
 */
public final class CrlSigner {

  /** The validity of a CRL when none is configured: until nextUpdate, 24 hours. */
  public static final Duration DEFAULT_VALIDITY = Duration.ofHours(24);

  private static final Logger LOG = LoggerFactory.getLogger(CrlSigner.class);

  private final Issuer issuer;
  private final Duration validity;
  private final X500Name issuerName;
  private final AuthorityKeyIdentifier authorityKeyIdentifier;
  private final AtomicLong lastNumber = new AtomicLong();

  /** Creates a signer whose CRLs are valid for {@link #DEFAULT_VALIDITY}. */
  public CrlSigner(Issuer issuer) {
    this(issuer, DEFAULT_VALIDITY);
  }

  /**
   * Creates a signer whose CRLs are valid for {@code validity}.
   *
   * @throws IllegalArgumentException if the validity is shorter than one second
   */
  public CrlSigner(Issuer issuer, Duration validity) {
    if (validity.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException("crl: validity " + validity
          + " is shorter than the minimum of 1 second");
    }
    this.issuer = issuer;
    this.validity = validity;
    X509Certificate certificate = issuer.certificate();
    this.issuerName = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
    this.authorityKeyIdentifier = authorityKeyIdentifier(certificate);
  }

  /** Returns the time from thisUpdate to nextUpdate. */
  public Duration validity() {
    return validity;
  }

  /**
   * Signs a CRL that lists {@code revocations}.
   *
   * <p>The CRL Number is the generation time in milliseconds since the epoch, raised to one
   * more than the last number this signer used if the clock did not advance. A counter would
   * need shared state to increase across CA nodes and restarts, and the time increases on
   * every node, if the nodes' clocks agree. NOTE: two nodes whose clocks differ by more than
   * the time between their generations can issue CRL numbers out of order.
   *
   * @throws IllegalArgumentException if a revocation's serial is not hexadecimal
   */
  public X509CRL sign(List<Revocation> revocations, Instant now) {
    long number = lastNumber.updateAndGet(last -> Math.max(last + 1, now.toEpochMilli()));
    Instant thisUpdate = now.truncatedTo(ChronoUnit.SECONDS);
    X509v2CRLBuilder builder = new X509v2CRLBuilder(issuerName, Date.from(thisUpdate));
    builder.setNextUpdate(Date.from(thisUpdate.plus(validity)));
    try {
      builder.addExtension(Extension.cRLNumber, false,
          new CRLNumber(BigInteger.valueOf(number)));
      builder.addExtension(Extension.authorityKeyIdentifier, false, authorityKeyIdentifier);
      for (Revocation revocation : revocations) {
        builder.addCRLEntry(serial(revocation), Date.from(
            revocation.revokedAt().truncatedTo(ChronoUnit.SECONDS)), entryExtensions(revocation));
      }
      return new JcaX509CRLConverter().setProvider(Providers.bouncyCastle())
          .getCRL(builder.build(issuer.contentSigner()));
    } catch (IOException | java.security.cert.CRLException e) {
      throw new IllegalStateException("crl: cannot sign CRL number " + number + " with "
          + revocations.size() + " entries", e);
    }
  }

  private static BigInteger serial(Revocation revocation) {
    try {
      return new BigInteger(revocation.serial(), 16);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("crl: revoked serial " + revocation.serial()
          + " is not hexadecimal", e);
    }
  }

  /**
   * Returns the entry's reasonCode extension, or null for none: for unspecified (0) and for
   * codes outside RFC 5280's CRLReason, which are logged because the entry then carries no
   * reason.
   */
  private static Extensions entryExtensions(Revocation revocation) throws IOException {
    int code = revocation.reasonCode();
    if (code == CRLReason.unspecified) {
      return null;
    }
    if (!isCrlReason(code)) {
      LOG.warn("crl: revocation of serial {} has reason code {}, which is not an RFC 5280"
          + " CRLReason; listing it without a reason", revocation.serial(), code);
      return null;
    }
    ExtensionsGenerator extensions = new ExtensionsGenerator();
    extensions.addExtension(Extension.reasonCode, false, new ASN1Enumerated(code));
    return extensions.generate();
  }

  /** Returns whether the code is a CRLReason of RFC 5280, 5.3.1: 0 to 10, except 7. */
  static boolean isCrlReason(int code) {
    return code >= CRLReason.unspecified && code <= CRLReason.aACompromise && code != 7;
  }

  /** Returns the intermediate's own key identifier, which RFC 5280, 4.2.1.1, requires. */
  private static AuthorityKeyIdentifier authorityKeyIdentifier(X509Certificate certificate) {
    try {
      SubjectKeyIdentifier subjectKeyIdentifier = SubjectKeyIdentifier.fromExtensions(
          new JcaX509CertificateHolder(certificate).getExtensions());
      if (subjectKeyIdentifier != null) {
        return new AuthorityKeyIdentifier(subjectKeyIdentifier.getKeyIdentifier());
      }
      return new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(
          certificate.getPublicKey());
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("crl: cannot read the intermediate certificate "
          + certificate.getSubjectX500Principal() + ": " + e.getMessage(), e);
    }
  }
}
