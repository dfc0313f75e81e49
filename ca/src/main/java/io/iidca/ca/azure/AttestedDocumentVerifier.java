package io.iidca.ca.azure;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.iidca.ca.config.AzureOptions;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.pki.Providers;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.cms.ContentInfo;
import org.bouncycastle.asn1.cms.CMSObjectIdentifiers;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;

/**
 * Verifies Azure attested documents: the {@code signature} field that {@code
 * GET /metadata/attested/document} returns, a base64 PKCS#7 SignedData (RFC 2315, read as CMS
 * per RFC 5652) with the JSON content attached and the signer's certificate embedded, as
 * "Azure Instance Metadata Service: Attested data" (learn.microsoft.com) describes.
 *
 * <p>Checked, as of the instant the caller passes: the structure (DER, one signer, id-data
 * content, the signer's certificate embedded), the RSA signature over the content with a
 * SHA-256, SHA-384 or SHA-512 digest, the signer's name (the cloud's {@code metadata.azure.*}
 * host, exactly, in the subject CN or a DNS subject alternative name), a PKIX path from the
 * signer to a shipped Microsoft or DigiCert root or an extra root from the configuration,
 * through shipped intermediates only, every certificate's validity, and the document's {@code
 * timeStamp}. Not checked: revocation (Microsoft's CRLs and OCSP are not fetched, nor any AIA
 * URL in the document) and the nonce, vmId and subscription, which {@code AzureProvisioner}
 * compares.
 *
 * <p>Thread-safe and immutable.
 */
public final class AttestedDocumentVerifier {

  /** The stage that rejections name. */
  public static final String STAGE = "verify-azure";
  /** Maximum size of the base64 text, far above the 4 KB of real documents. */
  public static final int MAX_BASE64_LENGTH = 64 * 1024;

  /** The {@code timeStamp} format: month/day/two-digit year, time and a numeric offset. */
  private static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("MM/dd/yy HH:mm:ss xx", Locale.ROOT);
  /**
   * Digest algorithm identifiers. IMDS writes sha256WithRSAEncryption in the SignerInfo's
   * digestAlgorithm field, where RFC 5652 expects a plain digest, so both forms are accepted.
   */
  private static final Map<String, String> DIGEST_NAMES = Map.of(
      NISTObjectIdentifiers.id_sha256.getId(), "SHA-256",
      NISTObjectIdentifiers.id_sha384.getId(), "SHA-384",
      NISTObjectIdentifiers.id_sha512.getId(), "SHA-512",
      PKCSObjectIdentifiers.sha256WithRSAEncryption.getId(), "SHA-256",
      PKCSObjectIdentifiers.sha384WithRSAEncryption.getId(), "SHA-384",
      PKCSObjectIdentifiers.sha512WithRSAEncryption.getId(), "SHA-512");
  private static final Set<String> SIGNATURE_ALGORITHMS = Set.of(
      PKCSObjectIdentifiers.rsaEncryption.getId(),
      PKCSObjectIdentifiers.sha256WithRSAEncryption.getId(),
      PKCSObjectIdentifiers.sha384WithRSAEncryption.getId(),
      PKCSObjectIdentifiers.sha512WithRSAEncryption.getId());
  private static final JsonMapper JSON = JsonMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
      .build();

  private final Set<TrustAnchor> anchors;
  private final List<X509Certificate> intermediates;
  private final String signerName;

  private AttestedDocumentVerifier(Set<TrustAnchor> anchors, List<X509Certificate> intermediates,
      String signerName) {
    this.anchors = Set.copyOf(anchors);
    this.intermediates = List.copyOf(intermediates);
    this.signerName = signerName;
  }

  /**
   * Returns a verifier for a cloud with the shipped roots and intermediates and {@code
   * extraCertificates}, which tests and the metadata emulator use: a self-signed one becomes a
   * trust anchor, any other an intermediate that paths may use.
   */
  public static AttestedDocumentVerifier forCloud(String cloud,
      Collection<X509Certificate> extraCertificates) {
    Set<TrustAnchor> anchors = new HashSet<>();
    List<X509Certificate> intermediates = new ArrayList<>(shipped("intermediates.pem"));
    for (X509Certificate root : shipped("roots.pem")) {
      anchors.add(new TrustAnchor(root, null));
    }
    for (X509Certificate extra : extraCertificates) {
      if (extra.getSubjectX500Principal().equals(extra.getIssuerX500Principal())) {
        anchors.add(new TrustAnchor(extra, null));
      } else {
        intermediates.add(extra);
      }
    }
    return new AttestedDocumentVerifier(anchors, intermediates, signerName(cloud));
  }

  /**
   * Returns the host name that signs a cloud's attested documents: {@code metadata.azure.com},
   * {@code metadata.azure.us} or {@code metadata.azure.cn}.
   */
  public static String signerName(String cloud) {
    return switch (cloud) {
      case AzureOptions.US_GOVERNMENT_CLOUD -> "metadata.azure.us";
      case AzureOptions.CHINA_CLOUD -> "metadata.azure.cn";
      default -> "metadata.azure.com";
    };
  }

  /**
   * Returns the base64 signature in {@code text}: the text itself, or the {@code signature}
   * field when the text is the JSON that IMDS returns, {@code {"encoding":"pkcs7",
   * "signature":"..."}}.
   *
   * @throws IdentityRejectedException if the JSON has no string signature or another encoding
   */
  public static String signatureOf(String text) {
    String trimmed = text.strip();
    if (!trimmed.startsWith("{")) {
      return trimmed;
    }
    try {
      JsonNode node = JSON.readTree(trimmed);
      JsonNode encoding = node.path("encoding");
      if (!encoding.isMissingNode() && !"pkcs7".equals(encoding.asText())) {
        throw reject("attested document encoding is '" + encoding.asText()
            + "', expected pkcs7");
      }
      if (!node.path("signature").isTextual()) {
        throw reject("attested document JSON has no string field 'signature'");
      }
      return node.get("signature").asText();
    } catch (JacksonException e) {
      throw reject("attested document is neither base64 nor valid JSON: "
          + e.getOriginalMessage());
    }
  }

  /**
   * Returns the {@code timeStamp.createdOn} of a document without verifying anything, so that
   * an inspection tool can verify the document as of its own creation.
   *
   * @throws IdentityRejectedException if the document or its content cannot be parsed
   */
  public static Instant unverifiedCreatedOn(String base64) {
    try {
      CMSSignedData cms = new CMSSignedData(decodeBase64(base64));
      if (cms.getSignedContent() == null) {
        throw reject("attested document has no attached content");
      }
      JsonNode node = JSON.readTree((byte[]) cms.getSignedContent().getContent());
      return timestamp(node, "createdOn");
    } catch (CMSException | IOException | RuntimeException e) {
      if (e instanceof IdentityRejectedException rejected) {
        throw rejected;
      }
      throw reject("attested document cannot be parsed: " + e.getMessage());
    }
  }

  /**
   * Verifies an attested document as of {@code at}.
   *
   * @param base64 the {@code signature} field: base64, line breaks allowed
   * @throws IdentityRejectedException naming the failed check
   */
  public AttestedDocument verify(String base64, Instant at) {
    byte[] der = decodeBase64(base64);
    CMSSignedData cms;
    SignerInformation signer;
    X509Certificate certificate;
    try {
      cms = parse(der);
      signer = cms.getSignerInfos().getSigners().iterator().next();
      certificate = signerCertificate(cms, signer);
    } catch (IdentityRejectedException e) {
      throw e;
    } catch (RuntimeException e) {
      // Bouncy Castle decodes parts of the structure lazily and reports malformed ASN.1 with
      // several runtime exception types.
      throw reject("attested document is not a valid PKCS#7 SignedData ("
          + e.getClass().getSimpleName() + ")");
    }
    byte[] content = (byte[]) cms.getSignedContent().getContent();
    verifySignature(signer, certificate, content);
    verifySignerName(certificate);
    verifyPath(certificate, at);
    return parseContent(content, certificate, at);
  }

  private static byte[] decodeBase64(String base64) {
    if (base64 == null || base64.isBlank()) {
      throw reject("attested document is empty");
    }
    if (base64.length() > MAX_BASE64_LENGTH) {
      throw reject("attested document of " + base64.length() + " characters exceeds the"
          + " limit of " + MAX_BASE64_LENGTH);
    }
    try {
      return Base64.getDecoder().decode(base64.replaceAll("[\\r\\n\\t ]", ""));
    } catch (IllegalArgumentException e) {
      throw reject("attested document is not valid base64: " + e.getMessage());
    }
  }

  /**
   * Parses the SignedData and requires DER, so that no byte outside the signed parts can change
   * without the document being rejected. A BER or re-ordered encoding is rejected.
   */
  private static CMSSignedData parse(byte[] der) {
    CMSSignedData cms;
    try {
      cms = new CMSSignedData(der);
      if (!Arrays.equals(der, cms.toASN1Structure().getEncoded(ASN1Encoding.DER))) {
        throw reject("attested document PKCS#7 is not DER-encoded");
      }
    } catch (CMSException | IOException e) {
      throw reject("attested document is not a PKCS#7 SignedData: " + e.getMessage());
    }
    checkStructure(cms);
    return cms;
  }

  /**
   * Checks the parts that no signature covers, so that altering them is rejected too: the
   * ContentInfo type, SignedData version 1, the digest algorithm set (exactly the signer's), and
   * a signer identified by issuer and serial number.
   */
  private static void checkStructure(CMSSignedData cms) {
    ContentInfo info = cms.toASN1Structure();
    if (!CMSObjectIdentifiers.signedData.equals(info.getContentType())) {
      throw reject("attested document content type is " + info.getContentType()
          + ", expected signedData");
    }
    if (cms.getVersion() != 1) {
      throw reject("attested document SignedData version is " + cms.getVersion()
          + ", expected 1");
    }

    if (!CMSObjectIdentifiers.data.getId().equals(cms.getSignedContentTypeOID())) {
      throw reject("attested document content type is " + cms.getSignedContentTypeOID()
          + ", expected id-data");
    }
    if (!(cms.getSignedContent() instanceof CMSProcessableByteArray)) {
      throw reject("attested document has no attached content");
    }
    int signers = cms.getSignerInfos().size();
    if (signers != 1) {
      throw reject("attested document has " + signers + " signers, expected 1");
    }

    SignerInformation signer = cms.getSignerInfos().getSigners().iterator().next();
    if (!DIGEST_NAMES.containsKey(signer.getDigestAlgOID())) {
      throw reject("attested document digest algorithm " + signer.getDigestAlgOID()
          + " is not SHA-256, SHA-384 or SHA-512");
    }
    if (!SIGNATURE_ALGORITHMS.contains(signer.getEncryptionAlgOID())) {
      throw reject("attested document signature algorithm " + signer.getEncryptionAlgOID()
          + " is not RSA");
    }
    ASN1Encodable parameters =
        signer.toASN1Structure().getDigestEncryptionAlgorithm().getParameters();
    if (parameters != null && !DERNull.INSTANCE.equals(parameters)) {
      throw reject("attested document signature algorithm has parameters, expected NULL");
    }
    if (signer.getVersion() != 1 || signer.getSID().getIssuer() == null) {
      throw reject("attested document signer is not identified by issuer and serial number");
    }
    if (!cms.getDigestAlgorithmIDs().equals(Set.of(signer.getDigestAlgorithmID()))) {
      throw reject("attested document digest algorithm set differs from its signer's");
    }
  }

  private static X509Certificate signerCertificate(CMSSignedData cms, SignerInformation signer) {
    @SuppressWarnings("unchecked")
    Collection<X509CertificateHolder> matches = cms.getCertificates().getMatches(signer.getSID());
    if (matches.size() != 1) {
      throw reject("attested document embeds " + matches.size() + " certificates for its"
          + " signer, expected 1");
    }
    X509CertificateHolder holder = matches.iterator().next();
    try {
      // The signer identifier is not signed: require the certificate's exact issuer encoding,
      // because name matching ignores string types and case.
      if (!Arrays.equals(signer.getSID().getIssuer().getEncoded(ASN1Encoding.DER),
          holder.getIssuer().getEncoded(ASN1Encoding.DER))) {
        throw reject("attested document signer identifier does not match its certificate");
      }
    } catch (IOException e) {
      throw reject("attested document signer identifier cannot be encoded");
    }
    try {
      return new JcaX509CertificateConverter().setProvider(Providers.bouncyCastle())
          .getCertificate(holder);
    } catch (GeneralSecurityException e) {
      throw reject("attested document signer certificate is invalid: " + e.getMessage());
    }
  }

  /**
   * Verifies the RSA PKCS#1 v1.5 signature. IMDS signs the content itself, without signed
   * attributes; when signed attributes are present, they are verified as RFC 5652 section 5.4
   * prescribes: content-type id-data, message-digest equal to the content's digest, and the
   * signature over their DER.
   */
  private static void verifySignature(SignerInformation signer, X509Certificate certificate,
      byte[] content) {
    String digest = DIGEST_NAMES.get(signer.getDigestAlgOID());
    byte[] signed = content;
    if (signer.getSignedAttributes() != null) {
      checkSignedAttributes(signer.getSignedAttributes(), content, digest);
      try {
        signed = signer.getEncodedSignedAttributes();
      } catch (IOException e) {
        throw reject("attested document signed attributes cannot be DER-encoded");
      }
    }
    boolean valid;
    try {
      Signature signature = Signature.getInstance(digest.replace("-", "") + "withRSA");
      signature.initVerify(certificate.getPublicKey());
      signature.update(signed);
      valid = signature.verify(signer.getSignature());
    } catch (GeneralSecurityException | IllegalStateException | IllegalArgumentException e) {
      // A malformed key in the embedded certificate surfaces as a runtime exception.
      throw reject("attested document signature does not verify: " + e.getMessage());
    }
    if (!valid) {
      throw reject("attested document signature does not verify with the key of "
          + certificate.getSubjectX500Principal().getName());
    }
  }

  private static void checkSignedAttributes(AttributeTable attributes, byte[] content,
      String digest) {
    Attribute type = attributes.get(CMSAttributes.contentType);
    if (type == null || type.getAttrValues().size() != 1
        || !CMSObjectIdentifiers.data.equals(type.getAttrValues().getObjectAt(0))) {
      throw reject("attested document content-type signed attribute is not id-data");
    }
    Attribute messageDigest = attributes.get(CMSAttributes.messageDigest);
    if (messageDigest == null || messageDigest.getAttrValues().size() != 1
        || !(messageDigest.getAttrValues().getObjectAt(0) instanceof ASN1OctetString value)) {
      throw reject("attested document message-digest signed attribute is missing");
    }
    try {
      byte[] actual = MessageDigest.getInstance(digest).digest(content);
      if (!MessageDigest.isEqual(actual, value.getOctets())) {
        throw reject("attested document message-digest does not match the content");
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(digest + " is unavailable", e);
    }
  }

  private void verifySignerName(X509Certificate certificate) {
    List<String> names = new ArrayList<>(commonNames(certificate));
    try {
      if (certificate.getSubjectAlternativeNames() != null) {
        for (List<?> entry : certificate.getSubjectAlternativeNames()) {
          if (Integer.valueOf(2).equals(entry.get(0))) {
            names.add((String) entry.get(1));
          }
        }
      }
    } catch (java.security.cert.CertificateParsingException e) {
      throw reject("attested document signer's subject alternative names are invalid");
    }
    for (String name : names) {
      if (name.equalsIgnoreCase(signerName)) {
        return;
      }
    }
    throw reject("attested document signer " + certificate.getSubjectX500Principal().getName()
        + " with DNS names " + names + " is not " + signerName);
  }

  private static List<String> commonNames(X509Certificate certificate) {
    X500Name subject = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
    List<String> names = new ArrayList<>();
    for (RDN rdn : subject.getRDNs(BCStyle.CN)) {
      names.add(IETFUtils.valueToString(rdn.getFirst().getValue()));
    }
    return names;
  }

  /** Builds and validates a path to a trust anchor as of {@code at}; revocation unchecked. */
  private void verifyPath(X509Certificate signer, Instant at) {
    try {
      X509CertSelector target = new X509CertSelector();
      target.setCertificate(signer);
      PKIXBuilderParameters parameters = new PKIXBuilderParameters(anchors, target);
      parameters.setRevocationEnabled(false);
      parameters.setDate(Date.from(at));
      List<X509Certificate> store = new ArrayList<>(intermediates);
      store.add(signer);
      parameters.addCertStore(CertStore.getInstance("Collection",
          new CollectionCertStoreParameters(store)));
      CertPathBuilder.getInstance("PKIX").build(parameters);
    } catch (java.security.cert.CertPathBuilderException e) {
      throw reject("attested document signer " + signer.getSubjectX500Principal().getName()
          + " issued by " + signer.getIssuerX500Principal().getName() + " has no valid path to"
          + " a trusted root as of " + at + ": " + e.getMessage());
    } catch (IllegalStateException | IllegalArgumentException e) {
      // Bouncy Castle certificates report a malformed signature field this way.
      throw reject("attested document signer " + signer.getSubjectX500Principal().getName()
          + " has a malformed certificate: " + e.getMessage());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("PKIX path building is unavailable", e);
    }
  }

  private static AttestedDocument parseContent(byte[] content, X509Certificate signer,
      Instant at) {
    JsonNode node;
    try {
      node = JSON.readTree(content);
    } catch (IOException e) {
      throw reject("attested document content is not valid JSON");
    }
    if (node == null || !node.isObject()) {
      throw reject("attested document content is not a JSON object");
    }
    String nonce = text(node, "nonce");
    String vmId = text(node, "vmId");
    JsonNode subscription = node.get("subscriptionId");
    Instant createdOn = timestamp(node, "createdOn");
    Instant expiresOn = timestamp(node, "expiresOn");
    if (at.isAfter(expiresOn)) {
      throw reject("attested document expired at " + expiresOn + " (timeStamp.expiresOn); now"
          + " is " + at);
    }
    if (createdOn.isAfter(at.plusSeconds(60))) {
      throw reject("attested document was created at " + createdOn + ", after " + at);
    }
    return new AttestedDocument(nonce, vmId.toLowerCase(Locale.ROOT),
        subscription == null || !subscription.isTextual() ? null
            : subscription.asText().toLowerCase(Locale.ROOT),
        createdOn, expiresOn, signer);
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || !value.isTextual() || value.asText().isEmpty()) {
      throw reject("attested document content has no string field '" + field + "'");
    }
    return value.asText();
  }

  private static Instant timestamp(JsonNode node, String field) {
    String text = text(node.path("timeStamp"), field);
    try {
      return java.time.OffsetDateTime.parse(text, TIMESTAMP).toInstant();
    } catch (DateTimeParseException e) {
      throw reject("attested document timeStamp." + field + " '" + text + "' is not in the"
          + " format MM/dd/yy HH:mm:ss -0000");
    }
  }

  private static List<X509Certificate> shipped(String resource) {
    try (InputStream in = AttestedDocumentVerifier.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("resource io/iidca/ca/azure/" + resource
            + " is missing from the class path");
      }
      return Pem.parseCertificates(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (java.security.cert.CertificateException e) {
      throw new IllegalStateException("resource io/iidca/ca/azure/" + resource
          + " holds an invalid certificate", e);
    }
  }

  private static IdentityRejectedException reject(String reason) {
    return new IdentityRejectedException(STAGE, reason);
  }
}
