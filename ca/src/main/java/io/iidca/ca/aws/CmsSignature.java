package io.iidca.ca.aws;

import io.iidca.ca.pki.Providers;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Set;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.CMSAlgorithmProtection;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.cms.CMSObjectIdentifiers;
import org.bouncycastle.asn1.cms.ContentInfo;
import org.bouncycastle.asn1.cms.SignedData;
import org.bouncycastle.asn1.cms.Time;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.oiw.OIWObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;

/**
 * One PKCS#7 SignedData (RFC 2315, read as CMS per RFC 5652) with exactly one signer, as the
 * EC2 metadata service serves for {@code rsa2048} and {@code pkcs7}. This class checks the
 * structure, the algorithms allowed for a form, and the signed attributes. It returns the bytes
 * that the signature covers but checks no key: {@link AwsDocumentVerifier} verifies the
 * signature value with each candidate key, once per key.
 *
 * <p>The signed-attribute checks follow RFC 5652 sections 5.4 and 11 and RFC 6211, the same
 * checks that Bouncy Castle's {@code SignerInformation.verify} makes. The signing-time attribute
 * must be well formed, but the certificate's validity is judged at the verification time that
 * the caller passes, not at the signing time. Certificates and CRLs carried in the PKCS#7 are
 * ignored. Instances are immutable.
 */
final class CmsSignature {

  private static final ASN1ObjectIdentifier SHA1 = OIWObjectIdentifiers.idSHA1;
  private static final ASN1ObjectIdentifier SHA256 = NISTObjectIdentifiers.id_sha256;
  private static final ASN1ObjectIdentifier RSA = PKCSObjectIdentifiers.rsaEncryption;
  private static final ASN1ObjectIdentifier SHA1_RSA = PKCSObjectIdentifiers.sha1WithRSAEncryption;
  private static final ASN1ObjectIdentifier SHA256_RSA =
      PKCSObjectIdentifiers.sha256WithRSAEncryption;
  private static final ASN1ObjectIdentifier DSA = X9ObjectIdentifiers.id_dsa;
  private static final ASN1ObjectIdentifier SHA1_DSA = X9ObjectIdentifiers.id_dsa_with_sha1;
  private static final ASN1ObjectIdentifier SHA256_DSA = NISTObjectIdentifiers.dsa_with_sha256;

  private static final Map<ASN1ObjectIdentifier, String> DIGEST_NAMES =
      Map.of(SHA1, "SHA-1", SHA256, "SHA-256");

  /** Signature algorithms: key algorithm, and the digest that a combined OID fixes (or null). */
  private record SignatureAlgorithm(String keyAlgorithm, ASN1ObjectIdentifier fixedDigest) {}

  private static final Map<ASN1ObjectIdentifier, SignatureAlgorithm> SIGNATURE_ALGORITHMS =
      Map.of(
          RSA, new SignatureAlgorithm("RSA", null),
          SHA1_RSA, new SignatureAlgorithm("RSA", SHA1),
          SHA256_RSA, new SignatureAlgorithm("RSA", SHA256),
          DSA, new SignatureAlgorithm("DSA", null),
          SHA1_DSA, new SignatureAlgorithm("DSA", SHA1),
          SHA256_DSA, new SignatureAlgorithm("DSA", SHA256));

  /**
   * Digests and signature algorithms per form. {@code rsa2048} is RSA with SHA-256 (AWS EC2
   * User Guide). {@code pkcs7} is DSA with SHA-1, but the certificate that AWS lists for it in
   * the China regions has an RSA key, so RSA and SHA-256 are accepted there too.
   */
  private static final Map<AwsSignatureForm, Set<ASN1ObjectIdentifier>> DIGESTS = Map.of(
      AwsSignatureForm.RSA2048, Set.of(SHA256),
      AwsSignatureForm.PKCS7, Set.of(SHA1, SHA256));
  private static final Map<AwsSignatureForm, Set<ASN1ObjectIdentifier>> ALGORITHMS = Map.of(
      AwsSignatureForm.RSA2048, Set.of(RSA, SHA256_RSA),
      AwsSignatureForm.PKCS7, Set.of(DSA, SHA1_DSA, SHA256_DSA, RSA, SHA1_RSA, SHA256_RSA));

  private final ASN1ObjectIdentifier contentType;
  private final byte[] embeddedContent;
  private final SignerInformation signer;

  private CmsSignature(ASN1ObjectIdentifier contentType, byte[] embeddedContent,
      SignerInformation signer) {
    this.contentType = contentType;
    this.embeddedContent = embeddedContent;
    this.signer = signer;
  }

  /** Parses a DER or BER ContentInfo holding a SignedData with one signer. */
  static CmsSignature parse(byte[] der) throws InvalidSignatureException {
    try {
      return parseSignedData(new CMSSignedData(der));
    } catch (CMSException | RuntimeException e) {
      // Bouncy Castle parses parts of the structure lazily and reports malformed ASN.1 with
      // several runtime exceptions (IllegalArgumentException, IllegalStateException,
      // ClassCastException), so the whole parse is guarded.
      throw new InvalidSignatureException("the PKCS#7 is not a valid CMS SignedData ("
          + e.getClass().getSimpleName() + ")", e);
    }
  }

  private static CmsSignature parseSignedData(CMSSignedData cms)
      throws InvalidSignatureException {
    ContentInfo info = cms.toASN1Structure();
    if (!CMSObjectIdentifiers.signedData.equals(info.getContentType())) {
      throw new InvalidSignatureException("the PKCS#7 content type is " + info.getContentType()
          + ", expected signedData " + CMSObjectIdentifiers.signedData);
    }
    Collection<SignerInformation> signers = cms.getSignerInfos().getSigners();
    if (signers.size() != 1) {
      throw new InvalidSignatureException("the PKCS#7 has " + signers.size()
          + " signers, expected exactly 1");
    }
    SignedData signedData = SignedData.getInstance(info.getContent());
    ASN1ObjectIdentifier contentType = signedData.getEncapContentInfo().getContentType();
    if (!CMSObjectIdentifiers.data.equals(contentType)) {
      throw new InvalidSignatureException("the PKCS#7 encapsulates content type " + contentType
          + ", expected id-data " + CMSObjectIdentifiers.data);
    }
    SignerInformation signer = signers.iterator().next();
    // Touch the lazily decoded parts now, so that malformed ones fail inside parse().
    signer.getSignedAttributes();
    signer.getUnsignedAttributes();
    signer.getDigestAlgorithmID();
    signer.getEncryptionAlgOID();
    return new CmsSignature(contentType, embedded(signedData), signer);
  }

  private static byte[] embedded(SignedData signedData) throws InvalidSignatureException {
    ASN1Encodable content = signedData.getEncapContentInfo().getContent();
    if (content == null) {
      return null;
    }
    if (!(content instanceof ASN1OctetString octets)) {
      throw new InvalidSignatureException("the PKCS#7 content is not an OCTET STRING");
    }
    return octets.getOctets();
  }

  /** Returns the encapsulated document, or null when the PKCS#7 is detached. */
  byte[] embeddedContent() {
    return embeddedContent == null ? null : embeddedContent.clone();
  }

  /** Checks that the digest and signature algorithms are allowed for {@code form}. */
  void checkAlgorithms(AwsSignatureForm form) throws InvalidSignatureException {
    ASN1ObjectIdentifier digest = digestOid();
    if (!DIGESTS.getOrDefault(form, Set.of()).contains(digest)) {
      throw new InvalidSignatureException("digest algorithm " + digestName(digest)
          + " is not allowed for form " + form + ", expected "
          + DIGESTS.getOrDefault(form, Set.of()).stream().map(CmsSignature::digestName)
              .sorted().toList());
    }
    ASN1ObjectIdentifier algorithm = signatureOid();
    SignatureAlgorithm known = SIGNATURE_ALGORITHMS.get(algorithm);
    if (known == null || !ALGORITHMS.getOrDefault(form, Set.of()).contains(algorithm)) {
      throw new InvalidSignatureException("signature algorithm " + algorithm
          + " is not allowed for form " + form);
    }
    if (known.fixedDigest() != null && !known.fixedDigest().equals(digest)) {
      throw new InvalidSignatureException("signature algorithm " + algorithm
          + " does not match digest algorithm " + digestName(digest));
    }
  }

  /**
   * Returns the JCA signature algorithm for a key of {@code keyAlgorithm} ("RSA" or "DSA"), or
   * null when the signer's algorithm needs another key type.
   */
  String jcaAlgorithm(String keyAlgorithm) {
    SignatureAlgorithm known = SIGNATURE_ALGORITHMS.get(signatureOid());
    if (known == null || !known.keyAlgorithm().equals(keyAlgorithm)) {
      return null;
    }
    String digest = digestOid().equals(SHA1) ? "SHA1" : "SHA256";
    return digest + "with" + keyAlgorithm;
  }

  /**
   * Checks the signed attributes against {@code content} and returns the bytes that the
   * signature value covers: the DER of the signed attributes, or the content itself when the
   * signer has none (RFC 5652 section 5.4).
   */
  byte[] signedBytes(byte[] content) throws InvalidSignatureException {
    checkNotUnsigned(CMSAttributes.contentType, "content-type");
    checkNotUnsigned(CMSAttributes.messageDigest, "message-digest");
    checkNotUnsigned(CMSAttributes.signingTime, "signing-time");
    checkNotUnsigned(CMSAttributes.cmsAlgorithmProtect, "cmsAlgorithmProtect");
    AttributeTable signed = signer.getSignedAttributes();
    if (signed == null) {
      return content;
    }
    checkContentType(signed);
    checkMessageDigest(signed, content);
    checkSigningTime(signed);
    checkAlgorithmProtection(signed);
    if (signed.getAll(CMSAttributes.counterSignature).size() > 0) {
      throw new InvalidSignatureException("a countersignature must not be a signed attribute");
    }
    try {
      return signer.getEncodedSignedAttributes();
    } catch (IOException e) {
      throw new InvalidSignatureException("the signed attributes cannot be DER-encoded", e);
    }
  }

  /** Returns the signature value. */
  byte[] signatureValue() {
    return signer.getSignature();
  }

  private ASN1ObjectIdentifier digestOid() {
    return signer.getDigestAlgorithmID().getAlgorithm();
  }

  private ASN1ObjectIdentifier signatureOid() {
    return new ASN1ObjectIdentifier(signer.getEncryptionAlgOID());
  }

  private static String digestName(ASN1ObjectIdentifier oid) {
    return DIGEST_NAMES.getOrDefault(oid, oid.getId());
  }

  private void checkNotUnsigned(ASN1ObjectIdentifier type, String name)
      throws InvalidSignatureException {
    AttributeTable unsigned = signer.getUnsignedAttributes();
    if (unsigned != null && unsigned.getAll(type).size() > 0) {
      throw new InvalidSignatureException("the " + name + " attribute must be signed");
    }
  }

  /** RFC 5652 section 11.1: present, one value, equal to the encapsulated content type. */
  private void checkContentType(AttributeTable signed) throws InvalidSignatureException {
    ASN1Encodable value = singleValue(signed, CMSAttributes.contentType, "content-type");
    if (value == null) {
      throw new InvalidSignatureException("the content-type signed attribute is missing");
    }
    if (!contentType.equals(value.toASN1Primitive())) {
      throw new InvalidSignatureException("the content-type signed attribute does not match"
          + " the encapsulated content type " + contentType);
    }
  }

  /** RFC 5652 section 11.2: present, one OCTET STRING, equal to the content's digest. */
  private void checkMessageDigest(AttributeTable signed, byte[] content)
      throws InvalidSignatureException {
    ASN1Encodable value = singleValue(signed, CMSAttributes.messageDigest, "message-digest");
    if (value == null) {
      throw new InvalidSignatureException("the message-digest signed attribute is missing");
    }
    if (!(value.toASN1Primitive() instanceof ASN1OctetString expected)) {
      throw new InvalidSignatureException("the message-digest signed attribute is not an"
          + " OCTET STRING");
    }
    byte[] actual = digest(content);
    if (!MessageDigest.isEqual(actual, expected.getOctets())) {
      throw new InvalidSignatureException("the message-digest signed attribute does not match"
          + " the " + digestName(digestOid()) + " digest of the document");
    }
  }

  /** RFC 5652 section 11.3: at most one value, a UTCTime or GeneralizedTime. */
  private void checkSigningTime(AttributeTable signed) throws InvalidSignatureException {
    ASN1Encodable value = singleValue(signed, CMSAttributes.signingTime, "signing-time");
    if (value == null) {
      return;
    }
    try {
      Time.getInstance(value);
    } catch (IllegalArgumentException e) {
      throw new InvalidSignatureException("the signing-time signed attribute is not a Time", e);
    }
  }

  /** RFC 6211: if present, the protected algorithms equal the signer's algorithms. */
  private void checkAlgorithmProtection(AttributeTable signed) throws InvalidSignatureException {
    ASN1Encodable value = singleValue(signed, CMSAttributes.cmsAlgorithmProtect,
        "cmsAlgorithmProtect");
    if (value == null) {
      return;
    }
    CMSAlgorithmProtection protection;
    try {
      protection = CMSAlgorithmProtection.getInstance(value);
    } catch (IllegalArgumentException e) {
      throw new InvalidSignatureException("the cmsAlgorithmProtect attribute is malformed", e);
    }
    if (!equivalent(protection.getDigestAlgorithm(), signer.getDigestAlgorithmID())
        || !equivalent(protection.getSignatureAlgorithm(),
            signer.toASN1Structure().getDigestEncryptionAlgorithm())) {
      throw new InvalidSignatureException("the cmsAlgorithmProtect attribute does not match"
          + " the signer's algorithms");
    }
  }

  /** Returns the only value of a signed attribute, or null when the attribute is absent. */
  private static ASN1Encodable singleValue(AttributeTable table, ASN1ObjectIdentifier type,
      String name) throws InvalidSignatureException {
    ASN1EncodableVector all = table.getAll(type);
    if (all.size() == 0) {
      return null;
    }
    if (all.size() > 1) {
      throw new InvalidSignatureException("the signed attributes hold " + all.size() + " "
          + name + " attributes, expected 1");
    }
    ASN1Set values = Attribute.getInstance(all.get(0)).getAttrValues();
    if (values.size() != 1) {
      throw new InvalidSignatureException("the " + name + " attribute has " + values.size()
          + " values, expected 1");
    }
    return values.getObjectAt(0);
  }

  /** Compares algorithm identifiers, treating absent parameters and NULL as equal. */
  private static boolean equivalent(AlgorithmIdentifier a, AlgorithmIdentifier b) {
    if (a == null || b == null || !a.getAlgorithm().equals(b.getAlgorithm())) {
      return false;
    }
    ASN1Encodable pa = a.getParameters() == null ? DERNull.INSTANCE : a.getParameters();
    ASN1Encodable pb = b.getParameters() == null ? DERNull.INSTANCE : b.getParameters();
    return pa.toASN1Primitive().equals(pb.toASN1Primitive());
  }

  private byte[] digest(byte[] content) {
    String name = digestName(digestOid());
    try {
      return Providers.digest(name).digest(content);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("neither ACCP nor Bouncy Castle provides " + name, e);
    }
  }
}
