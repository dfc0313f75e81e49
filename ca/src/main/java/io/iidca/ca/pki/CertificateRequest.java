package io.iidca.ca.pki;

import io.iidca.ca.error.MalformedRequestException;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * A PKCS#10 certification request (RFC 2986) whose signature was checked once with a single JCA
 * {@link Signature}. Exposes the fields that policy may consult; the certificate is never
 * copied from it.
 *
 * <p>Accepted signature algorithms: ECDSA with SHA-256, SHA-384 or SHA-512, RSA PKCS#1 v1.5
 * with the same digests, and Ed25519. Anything else is rejected as malformed.
 */
public record CertificateRequest(
    String commonName,
    List<String> sans,
    PublicKey publicKey,
    boolean requestsCa) {

  private static final Map<ASN1ObjectIdentifier, String> SIGNATURE_ALGORITHMS = Map.of(
      X9ObjectIdentifiers.ecdsa_with_SHA256, "SHA256withECDSA",
      X9ObjectIdentifiers.ecdsa_with_SHA384, "SHA384withECDSA",
      X9ObjectIdentifiers.ecdsa_with_SHA512, "SHA512withECDSA",
      PKCSObjectIdentifiers.sha256WithRSAEncryption, "SHA256withRSA",
      PKCSObjectIdentifiers.sha384WithRSAEncryption, "SHA384withRSA",
      PKCSObjectIdentifiers.sha512WithRSAEncryption, "SHA512withRSA",
      EdECObjectIdentifiers.id_Ed25519, "Ed25519");

  /**
   * Parses a PEM request and verifies its self-signature.
   *
   * @param stage the pipeline stage named in errors
   * @throws MalformedRequestException if the text is not a request, uses an unsupported
   *     algorithm, or its signature does not verify
   */
  public static CertificateRequest parse(String pem, String stage) {
    PKCS10CertificationRequest csr;
    try {
      csr = Pem.parseCsr(pem);
    } catch (GeneralSecurityException e) {
      throw new MalformedRequestException(stage, "csr is not a PEM certificate request");
    }
    ASN1ObjectIdentifier algorithm = csr.getSignatureAlgorithm().getAlgorithm();
    String jcaName = SIGNATURE_ALGORITHMS.get(algorithm);
    if (jcaName == null) {
      throw new MalformedRequestException(stage, "csr signature algorithm " + algorithm
          + " is not supported: use ECDSA, RSA PKCS#1 v1.5 or Ed25519");
    }
    PublicKey publicKey;
    try {
      publicKey = publicKey(csr);
      if (!verifies(csr, jcaName, publicKey)) {
        throw new MalformedRequestException(stage, "csr signature is invalid");
      }
    } catch (GeneralSecurityException | IOException | IllegalArgumentException e) {
      // The cause's class name stays out of the reason, which the client reads.
      throw new MalformedRequestException(stage, "csr signature cannot be verified with its"
          + " public key: the key must be valid and of the type that the signature algorithm "
          + jcaName + " names");
    }
    String commonName = commonName(csr, stage);
    Extensions extensions = requestedExtensions(csr, stage);
    try {
      return new CertificateRequest(commonName, sans(extensions, stage), publicKey,
          requestsCa(extensions));
    } catch (IllegalArgumentException | IllegalStateException | ClassCastException e) {
      // Bouncy Castle's getInstance methods throw these on a structure of the wrong type.
      throw new MalformedRequestException(stage, "csr subjectAltName or basicConstraints"
          + " extension is invalid: its value must be the DER of its RFC 5280 type (4.2.1)");
    }
  }

  /**
   * Reads the request's public key with the signature provider's key factory, so that the
   * signature check does not convert the key again. Bouncy Castle reads the keys that provider
   * cannot read, such as Ed25519 or curves that ACCP lacks. It also reads EC keys with explicit
   * curve parameters, which ACCP 2.4.1 rejects: a provider that re-encoded them with the curve's
   * name would hide them from the policy that denies them.
   */
  private static PublicKey publicKey(PKCS10CertificationRequest csr)
      throws GeneralSecurityException, IOException {
    AlgorithmIdentifier keyInfo = csr.getSubjectPublicKeyInfo().getAlgorithm();
    ASN1ObjectIdentifier keyType = keyInfo.getAlgorithm();
    boolean namedCurve = keyInfo.getParameters() instanceof ASN1ObjectIdentifier;
    String keyAlgorithm = X9ObjectIdentifiers.id_ecPublicKey.equals(keyType) && namedCurve ? "EC"
        : PKCSObjectIdentifiers.rsaEncryption.equals(keyType) ? "RSA" : null;
    Provider provider = Providers.signatures();
    if (keyAlgorithm != null && provider != Providers.bouncyCastle()) {
      try {
        return KeyFactory.getInstance(keyAlgorithm, provider).generatePublic(
            new X509EncodedKeySpec(csr.getSubjectPublicKeyInfo().getEncoded()));
      } catch (InvalidKeySpecException | NoSuchAlgorithmException e) {
        // Falls through to Bouncy Castle, which reads more curves and encodings.
      }
    }
    return new JcaPKCS10CertificationRequest(csr).setProvider(Providers.bouncyCastle())
        .getPublicKey();
  }

  /** Verifies the self-signature once, with a provider that accepts the key. */
  private static boolean verifies(PKCS10CertificationRequest csr, String jcaName,
      PublicKey publicKey) throws GeneralSecurityException, IOException {
    Signature signature = Providers.signature(jcaName);
    try {
      signature.initVerify(publicKey);
    } catch (InvalidKeyException e) {
      if (signature.getProvider() == Providers.bouncyCastle()) {
        throw e;
      }
      signature = Signature.getInstance(jcaName, Providers.bouncyCastle());
      signature.initVerify(publicKey);
    }
    signature.update(csr.toASN1Structure().getCertificationRequestInfo()
        .getEncoded(ASN1Encoding.DER));
    return signature.verify(csr.getSignature());
  }

  /**
   * Reads the first common name. Bouncy Castle returns whatever ASN.1 value the CSR holds, so a
   * value that is not a string type is a malformed request.
   */
  private static String commonName(PKCS10CertificationRequest csr, String stage) {
    RDN[] rdns = csr.getSubject().getRDNs(BCStyle.CN);
    if (rdns.length == 0) {
      return null;
    }
    if (!(rdns[0].getFirst().getValue() instanceof ASN1String value)) {
      throw new MalformedRequestException(stage, "csr common name is not a string: encode it"
          + " as a UTF8String or PrintableString");
    }
    return value.getString();
  }

  private static Extensions requestedExtensions(PKCS10CertificationRequest csr, String stage) {
    try {
      return csr.getRequestedExtensions();
    } catch (IllegalArgumentException | IllegalStateException | ClassCastException e) {
      throw new MalformedRequestException(stage, "csr extensionRequest attribute is not a"
          + " valid Extensions structure (RFC 2985, 5.4.2)");
    }
  }

  private static List<String> sans(Extensions extensions, String stage) {
    List<String> names = new ArrayList<>();
    if (extensions == null) {
      return names;
    }
    GeneralNames generalNames = GeneralNames.fromExtensions(extensions,
        Extension.subjectAlternativeName);
    if (generalNames == null) {
      return names;
    }
    for (GeneralName name : generalNames.getNames()) {
      names.add(switch (name.getTagNo()) {
        case GeneralName.iPAddress -> ipText(DEROctetString.getInstance(name.getName())
            .getOctets(), stage);
        case GeneralName.dNSName, GeneralName.rfc822Name,
            GeneralName.uniformResourceIdentifier -> ((ASN1String) name.getName()).getString();
        default -> throw new MalformedRequestException(stage,
            "csr requests a subject alternative name of unsupported type " + name.getTagNo()
                + ": use DNS names, IP addresses, email addresses or URIs");
      });
    }
    return names;
  }

  private static String ipText(byte[] octets, String stage) {
    try {
      return java.net.InetAddress.getByAddress(octets).getHostAddress();
    } catch (java.net.UnknownHostException e) {
      throw new MalformedRequestException(stage, "csr holds an IP address of "
          + octets.length + " octets");
    }
  }

  private static boolean requestsCa(Extensions extensions) {
    if (extensions == null) {
      return false;
    }
    BasicConstraints constraints = BasicConstraints.fromExtensions(extensions);
    return constraints != null && constraints.isCA();
  }
}
