package io.iidca.ca.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.MalformedRequestException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.cms.CMSObjectIdentifiers;
import org.bouncycastle.asn1.cms.ContentInfo;
import org.bouncycastle.asn1.cms.SignedData;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Verifies real documents that EC2 signed, with the certificates that ship in the package (not
 * the copies beside the fixtures), as of each document's pendingTime.
 */
class AwsDocumentVerifierFixturesTest {

  private static final AwsDocumentVerifier VERIFIER = new AwsDocumentVerifier(
      AwsCertificates.published(), EnumSet.allOf(AwsSignatureForm.class));

  private static final String CODER = "coder-awsidentity-signature-use1-2022";
  private static final String FULLSAILOR = "fullsailor-pkcs7-ec2-dsa-2016";
  private static final String GRAILBIO = "grailbio-base-ec2util-test-a-usw2-2016";
  private static final String JNEWBIGIN = "jnewbigin-pkcs7_detached-sample1-apse2-2018";
  private static final String NETFLIX = "netflix-vssm-test-rsa2048-use1-2017";
  private static final String TASKCLUSTER = "taskcluster-iid-verify-test-files-usw2-2018";
  private static final String WORKER_MANAGER = "taskcluster-worker-manager-signature-usw2-2019";
  private static final String TELEPORT = "teleport-join_ec2_test-instance1-usw2-2021";
  private static final String EDITED = "NEGATIVE-edited-content-use1-2015";

  /** A real document with one of its real signatures. */
  record Positive(String folder, AwsSignatureForm form, String signatureFile) {
    byte[] document() {
      return AwsFixtures.read(folder, "document.json");
    }

    byte[] signature() {
      return AwsFixtures.read(folder, signatureFile);
    }

    Instant pendingTime() {
      return AwsIdentityDocument.parse(document()).pendingTime();
    }

    @Override
    public String toString() {
      return folder + " " + form + " " + signatureFile;
    }
  }

  static final List<Positive> POSITIVES = List.of(
      new Positive(CODER, AwsSignatureForm.SIGNATURE, "signature.b64"),
      new Positive(CODER, AwsSignatureForm.SIGNATURE, "signature.bin"),
      new Positive(FULLSAILOR, AwsSignatureForm.PKCS7, "pkcs7.der"),
      new Positive(FULLSAILOR, AwsSignatureForm.PKCS7, "pkcs7.b64"),
      new Positive(FULLSAILOR, AwsSignatureForm.PKCS7, "pkcs7.pem"),
      new Positive(GRAILBIO, AwsSignatureForm.PKCS7, "pkcs7.der"),
      new Positive(GRAILBIO, AwsSignatureForm.PKCS7, "pkcs7.b64"),
      new Positive(GRAILBIO, AwsSignatureForm.PKCS7, "pkcs7.pem"),
      new Positive(JNEWBIGIN, AwsSignatureForm.PKCS7, "pkcs7.der"),
      new Positive(JNEWBIGIN, AwsSignatureForm.PKCS7, "pkcs7.b64"),
      new Positive(JNEWBIGIN, AwsSignatureForm.PKCS7, "pkcs7.pem"),
      new Positive(NETFLIX, AwsSignatureForm.RSA2048, "rsa2048.der"),
      new Positive(NETFLIX, AwsSignatureForm.RSA2048, "rsa2048.b64"),
      new Positive(NETFLIX, AwsSignatureForm.RSA2048, "rsa2048.pem"),
      new Positive(TASKCLUSTER, AwsSignatureForm.PKCS7, "pkcs7.der"),
      new Positive(TASKCLUSTER, AwsSignatureForm.PKCS7, "pkcs7.b64"),
      new Positive(TASKCLUSTER, AwsSignatureForm.PKCS7, "pkcs7.pem"),
      new Positive(TASKCLUSTER, AwsSignatureForm.RSA2048, "rsa2048.b64"),
      new Positive(TASKCLUSTER, AwsSignatureForm.RSA2048, "rsa2048/rsa2048.der"),
      new Positive(TASKCLUSTER, AwsSignatureForm.RSA2048, "rsa2048/rsa2048.pem"),
      new Positive(TASKCLUSTER, AwsSignatureForm.SIGNATURE, "signature.b64"),
      new Positive(TASKCLUSTER, AwsSignatureForm.SIGNATURE, "signature.bin"),
      new Positive(WORKER_MANAGER, AwsSignatureForm.SIGNATURE, "signature.b64"),
      new Positive(WORKER_MANAGER, AwsSignatureForm.SIGNATURE, "signature.bin"),
      new Positive(TELEPORT, AwsSignatureForm.RSA2048, "rsa2048.der"),
      new Positive(TELEPORT, AwsSignatureForm.RSA2048, "rsa2048.b64"),
      new Positive(TELEPORT, AwsSignatureForm.RSA2048, "rsa2048.pem"));

  /** One DER positive per fixture and form, for the tests that alter bytes. */
  static Stream<Positive> binaryPositives() {
    return POSITIVES.stream().filter(p -> p.signatureFile().endsWith(".der")
        || p.signatureFile().endsWith(".bin"));
  }

  static Stream<Positive> cmsPositives() {
    return binaryPositives().filter(p -> p.form() != AwsSignatureForm.SIGNATURE);
  }

  // ---- Positives ----

  @ParameterizedTest
  @MethodSource("positives")
  void realDocumentVerifiesAtPendingTime(Positive positive) {
    AwsIdentityDocument verified = VERIFIER.verify(positive.document(), positive.form(),
        positive.signature(), positive.pendingTime());

    assertThat(verified).isEqualTo(AwsIdentityDocument.parse(positive.document()));
  }

  @ParameterizedTest
  @MethodSource("cmsPositives")
  void embeddedDocumentVerifies(Positive positive) {
    AwsIdentityDocument verified = VERIFIER.verifyEmbedded(positive.form(),
        positive.signature(), positive.pendingTime());

    assertThat(verified.raw()).isEqualTo(positive.document());
  }

  @ParameterizedTest
  @MethodSource("cmsPositives")
  void detachedSignatureVerifiesOverDocument(Positive positive) {
    byte[] detached = detach(positive.signature());

    AwsIdentityDocument verified = VERIFIER.verify(positive.document(), positive.form(),
        detached, positive.pendingTime());

    assertThat(verified.raw()).isEqualTo(positive.document());
  }

  @ParameterizedTest
  @MethodSource("cmsPositives")
  void detachedSignatureHasNoEmbeddedDocument(Positive positive) {
    byte[] detached = detach(positive.signature());

    assertThatThrownBy(() -> VERIFIER.verifyEmbedded(positive.form(), detached,
        positive.pendingTime()))
        .isInstanceOf(MalformedRequestException.class)
        .hasMessage("verify-aws: the " + positive.form() + " PKCS#7 is detached and carries no"
            + " document: pass the document and the PKCS#7 together");
  }

  @Test
  void reissueVerifiesAfterOldCertificateExpired() {
    Positive positive = new Positive(TASKCLUSTER, AwsSignatureForm.SIGNATURE, "signature.b64");

    AwsIdentityDocument verified = VERIFIER.verify(positive.document(), positive.form(),
        positive.signature(), Instant.parse("2026-06-01T00:00:00Z"));

    assertThat(verified.instanceId()).isEqualTo("i-0a30e04d85e6f8793");
  }

  // ---- Negatives shipped with the fixtures ----

  /** A real document or signature that was altered, with the exact expected rejection. */
  record Negative(String folder, AwsSignatureForm form, String documentFile,
      String signatureFile, boolean embedded, Class<? extends RuntimeException> type,
      String reason) {
    @Override
    public String toString() {
      return folder + " " + documentFile + " " + signatureFile + (embedded ? " embedded" : "");
    }
  }

  static final List<Negative> NEGATIVES = List.of(
      new Negative(EDITED, AwsSignatureForm.PKCS7, "document.json", "pkcs7.der", false,
          MalformedRequestException.class, "document is not valid JSON"),
      new Negative(EDITED, AwsSignatureForm.PKCS7, null, "pkcs7.b64", true,
          MalformedRequestException.class, "document is not valid JSON"),
      new Negative(EDITED, AwsSignatureForm.PKCS7, null, "pkcs7.pem", true,
          MalformedRequestException.class, "document is not valid JSON"),
      new Negative(NETFLIX, AwsSignatureForm.RSA2048, "document.json",
          "NEG_bad_data.rsa2048.b64", false, IdentityRejectedException.class,
          "the PKCS#7 embeds a document that differs from the one presented"),
      new Negative(NETFLIX, AwsSignatureForm.RSA2048, null, "NEG_bad_data.rsa2048.b64", true,
          IdentityRejectedException.class, "the message-digest signed attribute does not match"
              + " the SHA-256 digest of the document"),
      new Negative(NETFLIX, AwsSignatureForm.RSA2048, "document.json",
          "NEG_bad_sig.rsa2048.b64", false, IdentityRejectedException.class,
          "the signature does not verify with any candidate"),
      new Negative(NETFLIX, AwsSignatureForm.RSA2048, null, "NEG_bad_sig.rsa2048.b64", true,
          IdentityRejectedException.class, "the signature does not verify with any candidate"),
      new Negative(WORKER_MANAGER, AwsSignatureForm.SIGNATURE, "NEG_document_bad.json",
          "signature.b64", false, IdentityRejectedException.class,
          "the signature does not verify with any candidate"),
      new Negative(WORKER_MANAGER, AwsSignatureForm.SIGNATURE, "document.json",
          "NEG_signature_badKey.b64", false, IdentityRejectedException.class,
          "the signature does not verify with any candidate"),
      new Negative(WORKER_MANAGER, AwsSignatureForm.SIGNATURE, "document.json",
          "NEG_signature_badKey.bin", false, IdentityRejectedException.class,
          "the signature does not verify with any candidate"),
      new Negative(WORKER_MANAGER, AwsSignatureForm.SIGNATURE, "document.json",
          "NEG_signature_badSignature.b64", false, IdentityRejectedException.class,
          "the signature does not verify with any candidate"),
      new Negative(WORKER_MANAGER, AwsSignatureForm.SIGNATURE, "document.json",
          "NEG_signature_badSignature.bin", false, IdentityRejectedException.class,
          "the signature does not verify with any candidate"));

  @ParameterizedTest
  @MethodSource("negatives")
  void alteredFixtureIsRejected(Negative negative) {
    byte[] signature = AwsFixtures.read(negative.folder(), negative.signatureFile());
    Instant at = Instant.parse("2020-01-01T00:00:00Z");

    assertThatThrownBy(() -> {
      if (negative.embedded()) {
        VERIFIER.verifyEmbedded(negative.form(), signature, at);
      } else {
        VERIFIER.verify(AwsFixtures.read(negative.folder(), negative.documentFile()),
            negative.form(), signature, at);
      }
    })
        .isInstanceOf(negative.type())
        .hasMessageContaining(negative.reason());
  }

  @Test
  void editedContentFailsTheSignatureCheckToo() {
    byte[] document = AwsFixtures.read(EDITED, "document.json");
    byte[] signature = AwsFixtures.read(EDITED, "pkcs7.der");

    assertThatThrownBy(() -> VERIFIER.verifySignedBytes(document, "us-east-1",
        AwsSignatureForm.PKCS7, signature, Instant.parse("2015-11-18T19:01:04Z")))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessage("verify-aws: pkcs7 signature for region us-east-1 rejected: the"
            + " message-digest signed attribute does not match the SHA-1 digest of the"
            + " document; candidates: 96BA48D9E55E1A67 (valid, not tried)");
  }

  @Test
  void tablesCoverEveryFixture() throws IOException {
    Set<String> folders = new TreeSet<>();
    Set<String> negativeFiles = new TreeSet<>();
    try (Stream<Path> children = Files.list(AwsFixtures.aws())) {
      for (Path folder : children.filter(Files::isDirectory).toList()) {
        String name = folder.getFileName().toString();
        if (name.equals("certs")) {
          continue;
        }
        folders.add(name);
        try (Stream<Path> files = Files.list(folder)) {
          files.map(f -> f.getFileName().toString()).filter(f -> f.startsWith("NEG_"))
              .forEach(f -> negativeFiles.add(name + "/" + f));
        }
      }
    }
    Set<String> tabled = new TreeSet<>();
    POSITIVES.forEach(p -> tabled.add(p.folder()));
    NEGATIVES.forEach(n -> tabled.add(n.folder()));
    Set<String> tabledNegativeFiles = NEGATIVES.stream()
        .flatMap(n -> Stream.of(n.documentFile(), n.signatureFile())
            .filter(f -> f != null && f.startsWith("NEG_")).map(f -> n.folder() + "/" + f))
        .collect(Collectors.toCollection(TreeSet::new));

    assertThat(tabled).isEqualTo(folders);
    assertThat(tabledNegativeFiles).isEqualTo(negativeFiles);
  }

  // ---- One altered byte ----

  /**
   * An edit of one document byte that keeps the JSON valid: the byte {@code offset} after
   * {@code anchor}, or for a negative offset, that many bytes before the closing quote of the
   * string value that follows the anchor.
   */
  record DocumentEdit(String name, String anchor, int offset) {
    byte[] apply(byte[] document) {
      String text = new String(document, StandardCharsets.UTF_8);
      int start = text.indexOf(anchor);
      assertThat(start).as("anchor %s", anchor).isNotNegative();
      int index = offset >= 0 ? start + offset
          : text.indexOf('"', start + anchor.length()) + offset;
      byte[] edited = document.clone();
      edited[index] = replacement(edited[index]);
      return edited;
    }

    /** Replaces a byte with one of the same class: digit, lower-case letter or blank. */
    private static byte replacement(byte b) {
      if (b >= '0' && b <= '9') {
        return (byte) (b == '9' ? '0' : b + 1);
      }
      if (b == 'f') {
        return 'e';
      }
      if (b >= 'a' && b < 'z') {
        return (byte) (b + 1);
      }
      if (b == ' ') {
        return '\t';
      }
      if (b == '\n') {
        return '\r';
      }
      throw new AssertionError("no replacement for byte " + b);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  static final List<DocumentEdit> DOCUMENT_EDITS = List.of(
      new DocumentEdit("accountId first digit", "\"accountId\" : \"", 15),
      new DocumentEdit("instanceId hex digit", "\"instanceId\" : \"i-", 20),
      new DocumentEdit("availabilityZone letter", "\"availabilityZone\" : \"", -1),
      new DocumentEdit("pendingTime year digit", "\"pendingTime\" : \"", 20),
      new DocumentEdit("blank before colon", "\"region\" :", 8),
      new DocumentEdit("newline after brace", "{\n", 1));

  static Stream<Arguments> documentEdits() {
    return binaryPositives().flatMap(p -> DOCUMENT_EDITS.stream().map(e -> Arguments.of(p, e)));
  }

  @ParameterizedTest
  @MethodSource("documentEdits")
  void editedDocumentIsRejected(Positive positive, DocumentEdit edit) {
    byte[] edited = edit.apply(positive.document());

    assertThatThrownBy(() -> VERIFIER.verify(edited, positive.form(), positive.signature(),
        positive.pendingTime()))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageStartingWith("verify-aws: " + positive.form() + " signature for region ");
  }

  static Stream<Arguments> cmsDocumentEdits() {
    return cmsPositives().flatMap(p -> DOCUMENT_EDITS.stream().map(e -> Arguments.of(p, e)));
  }

  @ParameterizedTest
  @MethodSource("cmsDocumentEdits")
  void editedDocumentFailsDetachedDigest(Positive positive, DocumentEdit edit) {
    byte[] edited = edit.apply(positive.document());
    byte[] detached = detach(positive.signature());

    assertThatThrownBy(() -> VERIFIER.verify(edited, positive.form(), detached,
        positive.pendingTime()))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("rejected: the message-digest signed attribute does not match");
  }

  /** A byte of a signature to flip, located by what it belongs to. */
  enum SignatureByte {
    FIRST, MIDDLE, LAST, SIGNATURE_VALUE, MESSAGE_DIGEST, EMBEDDED_CONTENT, SIGNED_ATTRIBUTES;

    /** DER of the content-type attribute's OID 1.2.840.113549.1.9.3 (RFC 5652 11.1). */
    private static final byte[] CONTENT_TYPE_OID =
        {0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x09, 0x03};

    int locate(byte[] signature) {
      return switch (this) {
        case FIRST -> 0;
        case MIDDLE -> signature.length / 2;
        case LAST -> signature.length - 1;
        case SIGNATURE_VALUE -> indexOf(signature, signer(signature).getSignature(), 20);
        case MESSAGE_DIGEST -> indexOf(signature, messageDigest(signature), 3);
        case EMBEDDED_CONTENT -> indexOf(signature,
            "\"instanceId\"".getBytes(StandardCharsets.US_ASCII), 2);
        case SIGNED_ATTRIBUTES -> indexOf(signature, CONTENT_TYPE_OID, 4);
      };
    }

    boolean appliesTo(AwsSignatureForm form) {
      return form != AwsSignatureForm.SIGNATURE || ordinal() <= LAST.ordinal();
    }

    private static byte[] messageDigest(byte[] der) {
      return ASN1OctetString.getInstance(signer(der).getSignedAttributes()
          .get(CMSAttributes.messageDigest).getAttrValues().getObjectAt(0)).getOctets();
    }
  }

  static Stream<Arguments> signatureFlips() {
    return binaryPositives().flatMap(p -> Arrays.stream(SignatureByte.values())
        .filter(b -> b.appliesTo(p.form())).map(b -> Arguments.of(p, b)));
  }

  @ParameterizedTest
  @MethodSource("signatureFlips")
  void flippedSignatureByteIsRejected(Positive positive, SignatureByte where) {
    byte[] signature = positive.signature();
    int index = where.locate(signature);
    signature[index] ^= 0x01;

    assertThatThrownBy(() -> VERIFIER.verify(positive.document(), positive.form(), signature,
        positive.pendingTime()))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageStartingWith("verify-aws: " + positive.form() + " signature for region "
            + AwsIdentityDocument.parse(positive.document()).region() + " rejected: ");
  }

  /**
   * Flips each byte of a real PKCS#7 in turn. Every result is either rejected with
   * {@link IdentityRejectedException} or, when the byte lies outside the signed attributes, the
   * signature value and the content (a version number, the SignedData digest list, the signer's
   * issuer name), accepted; no other exception escapes.
   */
  @ParameterizedTest
  @MethodSource("cmsPositives")
  void everyFlippedByteIsRejectedOrUnsigned(Positive positive) throws Exception {
    byte[] der = decodeCms(positive.signature());
    SignerInformation signer = signer(der);
    byte[] attributes = signer.getEncodedSignedAttributes();
    int attributesStart = indexOf(der, Arrays.copyOfRange(attributes, 1, attributes.length), -1);
    int valueStart = indexOf(der, signer.getSignature(), 0);
    int contentStart = indexOf(der, positive.document(), 0);
    List<Integer> acceptedInSignedParts = new ArrayList<>();

    for (int i = 0; i < der.length; i++) {
      byte[] flipped = der.clone();
      flipped[i] ^= 0x01;
      boolean accepted;
      try {
        VERIFIER.verify(positive.document(), positive.form(), flipped, positive.pendingTime());
        accepted = true;
      } catch (IdentityRejectedException e) {
        accepted = false;
      }
      boolean signedPart = within(i, attributesStart, attributes.length)
          || within(i, valueStart, signer.getSignature().length)
          || within(i, contentStart, positive.document().length);
      if (accepted && signedPart) {
        acceptedInSignedParts.add(i);
      }
    }

    assertThat(acceptedInSignedParts).isEmpty();
  }

  private static boolean within(int index, int start, int length) {
    return index >= start && index < start + length;
  }

  // ---- Verification time ----

  static Stream<Arguments> timesOutsideValidity() {
    Positive signature = new Positive(TASKCLUSTER, AwsSignatureForm.SIGNATURE, "signature.b64");
    Positive rsa2048 = new Positive(TELEPORT, AwsSignatureForm.RSA2048, "rsa2048.der");
    Positive pkcs7 = new Positive(GRAILBIO, AwsSignatureForm.PKCS7, "pkcs7.der");
    return Stream.of(
        Arguments.of(signature, "2014-01-01T00:00:00Z"),
        Arguments.of(signature, "2029-04-28T17:24:00Z"),
        Arguments.of(rsa2048, "2015-08-14T08:59:00Z"),
        Arguments.of(rsa2048, "2195-01-18T00:00:00Z"),
        Arguments.of(pkcs7, "2012-01-05T12:56:11Z"),
        Arguments.of(pkcs7, "2038-01-05T12:56:13Z"));
  }

  @ParameterizedTest
  @MethodSource("timesOutsideValidity")
  void documentIsRejectedOutsideCandidateValidity(Positive positive, String time) {
    Instant at = Instant.parse(time);
    String region = AwsIdentityDocument.parse(positive.document()).region();
    VERIFIER.verify(positive.document(), positive.form(), positive.signature(),
        positive.pendingTime());

    assertThatThrownBy(() -> VERIFIER.verify(positive.document(), positive.form(),
        positive.signature(), at))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageStartingWith("verify-aws: " + positive.form() + " signature for region "
            + region + " rejected: no candidate certificate is valid at " + at
            + "; candidates: ")
        .hasMessageContaining("not valid at " + at);
  }

  // ---- Messages ----

  @ParameterizedTest
  @MethodSource("binaryPositives")
  void rejectionMessageHoldsNoDocumentOrSignatureBytes(Positive positive) {
    AwsIdentityDocument document = AwsIdentityDocument.parse(positive.document());
    byte[] signature = positive.signature();
    signature[signature.length / 2] ^= 0x01;

    assertThatThrownBy(() -> VERIFIER.verify(positive.document(), positive.form(), signature,
        positive.pendingTime()))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageNotContaining(document.instanceId())
        .hasMessageNotContaining(document.accountId())
        .hasMessageNotContaining(new String(AwsFixtures.read(positive.folder(),
            positive.signatureFile()), StandardCharsets.ISO_8859_1).substring(0, 16));
  }

  // ---- Helpers ----

  static Stream<Positive> positives() {
    return POSITIVES.stream();
  }

  static Stream<Negative> negatives() {
    return NEGATIVES.stream();
  }

  /** Re-encodes a PKCS#7 without its encapsulated content, keeping the signer unchanged. */
  static byte[] detach(byte[] signature) {
    try {
      byte[] der = decodeCms(signature);
      ContentInfo info = ContentInfo.getInstance(ASN1Primitive.fromByteArray(der));
      SignedData attached = SignedData.getInstance(info.getContent());
      SignedData detached = new SignedData(attached.getDigestAlgorithms(),
          new ContentInfo(attached.getEncapContentInfo().getContentType(), null),
          attached.getCertificates(), attached.getCRLs(), attached.getSignerInfos());
      return new ContentInfo(CMSObjectIdentifiers.signedData, detached)
          .getEncoded(ASN1Encoding.DER);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] decodeCms(byte[] signature) {
    try {
      return SignatureEncoding.pkcs7(signature);
    } catch (InvalidSignatureException e) {
      throw new AssertionError(e);
    }
  }

  private static SignerInformation signer(byte[] der) {
    try {
      return new CMSSignedData(der).getSignerInfos().getSigners().iterator().next();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** Returns the index of {@code offset} bytes into the first occurrence of {@code part}. */
  private static int indexOf(byte[] whole, byte[] part, int offset) {
    List<Integer> found = new ArrayList<>();
    for (int i = 0; i + part.length <= whole.length && found.isEmpty(); i++) {
      if (Arrays.equals(whole, i, i + part.length, part, 0, part.length)) {
        found.add(i);
      }
    }
    assertThat(found).as("part of the signature").isNotEmpty();
    return found.get(0) + offset;
  }
}
