package io.iidca.ca.pki;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Builds the CA's own certificates: a self-signed root and an intermediate below it, with the
 * extensions that RFC 5280 requires of CA certificates (basicConstraints critical, keyUsage
 * keyCertSign and cRLSign, subject and authority key identifiers).
 */
public final class CaCertificates {

  /** Root and intermediate validity, as step-ca uses: ten years. */
  public static final Duration CA_VALIDITY = Duration.ofDays(3650);

  private static final SecureRandom RANDOM = new SecureRandom();

  private CaCertificates() {}

  /** Creates a self-signed root: CA with path length 1, so it may sign one intermediate level. */
  public static X509Certificate root(String caName, KeyPair keys, Instant now) {
    X500Name subject = name(caName + " Root CA", caName);
    return build(subject, keys.getPublic(), subject, keys.getPrivate(), null, 1, now);
  }

  /** Creates an intermediate signed by the root: CA with path length 0. */
  public static X509Certificate intermediate(String caName, PublicKey key,
      X509Certificate root, PrivateKey rootKey, Instant now) {
    X500Name subject = name(caName + " Intermediate CA", caName);
    return build(subject, key, X500Name.getInstance(root.getSubjectX500Principal().getEncoded()),
        rootKey, root, 0, now);
  }

  /** Returns a random positive serial of 127 bits (RFC 5280 allows up to 20 octets). */
  public static BigInteger randomSerial() {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    bytes[0] &= 0x7F;
    bytes[0] |= 0x40; // fixes the length at 16 octets and keeps the serial non-zero
    return new BigInteger(bytes);
  }

  /** Bits of the serial that {@link #timeOrderedSerial} fills from the random source. */
  static final int RANDOM_SERIAL_BITS = 84;
  /** Milliseconds since 1970 that fit the 42 bits of a time-ordered serial: until 2109. */
  static final long MAX_SERIAL_MILLIS = (1L << 42) - 1;

  /**
   * Returns a positive serial of 127 bits that sorts by the time of signing: a marker bit, the
   * milliseconds since 1970 in 42 bits, and 84 random bits. The Baseline Requirements, 7.1,
   * require at least 64 bits of CSPRNG output (CA/Browser Forum Ballot 164,
   * https://cabforum.org/2016/03/31/ballot-164-certificate-serial-number-entropy/).
   *
   * <p>With the time in front, the store's serial index grows at its end, while a random serial
   * rewrote a random index page per certificate. As in {@link #randomSerial}, the marker bit
   * fixes the length at 16 octets, so the lowercase hex keys in the store sort as the numbers.
   *
   * @throws IllegalArgumentException if {@code epochMillis} is before 1970 or after 2109
   */
  public static BigInteger timeOrderedSerial(long epochMillis) {
    if (epochMillis < 0 || epochMillis > MAX_SERIAL_MILLIS) {
      throw new IllegalArgumentException("invalid time for a certificate serial: " + epochMillis
          + " ms since 1970 is outside 1970 to 2109; check the system clock");
    }
    byte[] random = new byte[(RANDOM_SERIAL_BITS + 7) / 8];
    RANDOM.nextBytes(random);
    return BigInteger.ONE.shiftLeft(126)
        .or(BigInteger.valueOf(epochMillis).shiftLeft(RANDOM_SERIAL_BITS))
        .or(new BigInteger(1, random).shiftRight(random.length * 8 - RANDOM_SERIAL_BITS));
  }

  /** Returns a signer for the key: ECDSA with SHA-256 or SHA-384 by curve, RSA, or Ed25519. */
  public static ContentSigner signer(PrivateKey key) {
    try {
      return new JcaContentSignerBuilder(signatureAlgorithm(key))
          .setProvider(Providers.bouncyCastle()).build(key);
    } catch (OperatorCreationException e) {
      throw new IllegalStateException("cannot sign with a " + key.getAlgorithm() + " key", e);
    }
  }

  static String signatureAlgorithm(PrivateKey key) {
    return switch (key.getAlgorithm()) {
      case "EC", "ECDSA" -> key instanceof java.security.interfaces.ECKey ec
          && ec.getParams().getCurve().getField().getFieldSize() > 256
          ? "SHA384withECDSA" : "SHA256withECDSA";
      case "RSA" -> "SHA256withRSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> throw new IllegalArgumentException("unsupported CA key type "
          + key.getAlgorithm());
    };
  }

  private static X500Name name(String commonName, String organization) {
    return new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.O, organization)
        .addRDN(BCStyle.CN, commonName)
        .build();
  }

  private static X509Certificate build(X500Name subject, PublicKey key, X500Name issuer,
      PrivateKey issuerKey, X509Certificate issuerCertificate, int pathLength, Instant now) {
    try {
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer, randomSerial(),
          Date.from(now.minus(Duration.ofMinutes(1))), Date.from(now.plus(CA_VALIDITY)),
          subject, key)
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(pathLength))
          .addExtension(Extension.keyUsage, true,
              new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
          .addExtension(Extension.subjectKeyIdentifier, false,
              utils.createSubjectKeyIdentifier(key));
      if (issuerCertificate != null) {
        builder.addExtension(Extension.authorityKeyIdentifier, false,
            utils.createAuthorityKeyIdentifier(issuerCertificate));
      }
      return new JcaX509CertificateConverter().setProvider(Providers.bouncyCastle())
          .getCertificate(builder.build(signer(issuerKey)));
    } catch (CertIOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot build CA certificate " + subject, e);
    }
  }
}
