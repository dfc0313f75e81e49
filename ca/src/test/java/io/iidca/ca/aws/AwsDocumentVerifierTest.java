package io.iidca.ca.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.MalformedRequestException;
import io.iidca.ca.pki.Providers;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** Verification rules checked with documents signed by keys generated for the test run. */
class AwsDocumentVerifierTest {

  private static final Instant AT = Instant.parse("2025-01-01T00:00:00Z");
  private static final Set<AwsSignatureForm> ALL = EnumSet.allOf(AwsSignatureForm.class);
  private static final TestSigner RSA = TestSigner.generate("RSA", 2048);
  private static final byte[] DOCUMENT = Documents.inRegion("us-east-1");

  private static AwsDocumentVerifier publishedPlus(TestSigner... signers) {
    AwsCertificates certificates = AwsCertificates.published();
    for (TestSigner signer : signers) {
      certificates = certificates.withAdditional(List.of(signer.certificate));
    }
    return new AwsDocumentVerifier(certificates, ALL);
  }

  private static String serial(TestSigner signer) {
    return Serials.of(signer.certificate);
  }

  // ---- Enabled forms ----

  @ParameterizedTest
  @EnumSource(AwsSignatureForm.class)
  void formNotEnabledIsRejected(AwsSignatureForm form) {
    Set<AwsSignatureForm> others = EnumSet.complementOf(EnumSet.of(form));
    AwsDocumentVerifier verifier = new AwsDocumentVerifier(
        AwsCertificates.published().withAdditional(List.of(RSA.certificate)), others);
    byte[] signature = form == AwsSignatureForm.SIGNATURE ? RSA.raw(DOCUMENT, "SHA256withRSA")
        : RSA.cms(DOCUMENT);

    assertThatThrownBy(() -> verifier.verify(DOCUMENT, form, signature, AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessage("verify-aws: form " + form + " is not enabled for this provisioner"
            + " (enabled: " + others + ")");
    assertThatThrownBy(() -> verifier.verifyEmbedded(form, signature, AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageStartingWith("verify-aws: form " + form + " is not enabled");
  }

  @Test
  void noEnabledFormIsAConfigurationError() {
    assertThatThrownBy(() -> new AwsDocumentVerifier(AwsCertificates.published(), Set.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("allowedForms is empty: enable at least one of [rsa2048, signature, pkcs7]");
  }

  // ---- Additional certificates ----

  @Test
  void testKeyIsAcceptedOnlyViaWithAdditional() {
    byte[] cms = RSA.cms(DOCUMENT);
    AwsDocumentVerifier published = new AwsDocumentVerifier(AwsCertificates.published(), ALL);

    assertThatThrownBy(() -> published.verify(DOCUMENT, AwsSignatureForm.RSA2048, cms, AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessage("verify-aws: rsa2048 signature for region us-east-1 rejected: the signature"
            + " does not verify with any candidate; candidates: B169CC401559A419 (signature"
            + " does not verify)");
    assertThat(publishedPlus(RSA).verify(DOCUMENT, AwsSignatureForm.RSA2048, cms, AT).raw())
        .isEqualTo(DOCUMENT);
    assertThat(publishedPlus(RSA).verifyEmbedded(AwsSignatureForm.RSA2048, cms, AT).raw())
        .isEqualTo(DOCUMENT);
  }

  @ParameterizedTest
  @CsvSource({"raw", "base64", "base64 with line breaks"})
  void bareSignatureIsAcceptedViaWithAdditional(String encoding) {
    byte[] raw = RSA.raw(DOCUMENT, "SHA256withRSA");
    byte[] signature = switch (encoding) {
      case "raw" -> raw;
      case "base64" -> Base64.getEncoder().encode(raw);
      default -> Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encode(raw);
    };

    assertThatThrownBy(() -> new AwsDocumentVerifier(AwsCertificates.published(), ALL)
        .verify(DOCUMENT, AwsSignatureForm.SIGNATURE, signature, AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("the signature does not verify with any candidate");
    assertThat(publishedPlus(RSA).verify(DOCUMENT, AwsSignatureForm.SIGNATURE, signature, AT)
        .instanceId()).isEqualTo("i-0123456789abcdef0");
  }

  @Test
  void cmsInPemArmourIsAccepted() {
    String base64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(RSA.cms(DOCUMENT));
    byte[] pem = ("-----BEGIN PKCS7-----\n" + base64 + "\n-----END PKCS7-----\n")
        .getBytes(StandardCharsets.US_ASCII);

    assertThat(publishedPlus(RSA).verify(DOCUMENT, AwsSignatureForm.RSA2048, pem, AT).region())
        .isEqualTo("us-east-1");
  }

  @Test
  void dsaKeyVerifiesPkcs7Form() {
    TestSigner dsa = TestSigner.generate("DSA", 1024);
    byte[] cms = dsa.cms(DOCUMENT, "SHA1withDSA", true, true, false);

    assertThat(publishedPlus(dsa).verify(DOCUMENT, AwsSignatureForm.PKCS7, cms, AT).raw())
        .isEqualTo(DOCUMENT);
    assertThatThrownBy(() -> publishedPlus(dsa).verify(DOCUMENT, AwsSignatureForm.RSA2048, cms,
        AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("rejected: digest algorithm SHA-1 is not allowed for form rsa2048,"
            + " expected [SHA-256]");
  }

  // ---- Regions ----

  @Test
  void regionWithoutCandidateIsRejected() {
    byte[] document = Documents.inRegion("xx-nowhere-1");
    AwsDocumentVerifier verifier = new AwsDocumentVerifier(AwsCertificates.published(), ALL);

    assertThatThrownBy(() -> verifier.verify(document, AwsSignatureForm.RSA2048,
        RSA.cms(document), AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessage("verify-aws: rsa2048 signature for region xx-nowhere-1 rejected: no rsa2048"
            + " certificate is known for region xx-nowhere-1; add the region's AWS certificate"
            + " to the provisioner; candidates: none");
  }

  @Test
  void keyTrustedForAnotherRegionIsRejected() {
    TestSigner euWest = TestSigner.generate("RSA", 2048);
    TestSigner usEast = TestSigner.generate("RSA", 2048);
    AwsCertificates certificates = AwsCertificates.of(Map.of(
        AwsSignatureForm.RSA2048, Map.of(
            "eu-west-1", List.of(euWest.certificate),
            "us-east-1", List.of(usEast.certificate))));
    AwsDocumentVerifier verifier = new AwsDocumentVerifier(certificates, ALL);
    byte[] claimsUsEast = Documents.inRegion("us-east-1");
    byte[] claimsEuWest = Documents.inRegion("eu-west-1");
    byte[] claimsApSouth = Documents.inRegion("ap-south-1");

    assertThat(verifier.verify(claimsEuWest, AwsSignatureForm.RSA2048,
        euWest.cms(claimsEuWest), AT).region()).isEqualTo("eu-west-1");
    assertThatThrownBy(() -> verifier.verify(claimsUsEast, AwsSignatureForm.RSA2048,
        euWest.cms(claimsUsEast), AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessage("verify-aws: rsa2048 signature for region us-east-1 rejected: the signature"
            + " does not verify with any candidate; candidates: " + serial(usEast)
            + " (signature does not verify)");
    assertThatThrownBy(() -> verifier.verify(claimsApSouth, AwsSignatureForm.RSA2048,
        euWest.cms(claimsApSouth), AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("no rsa2048 certificate is known for region ap-south-1");
  }

  @Test
  void realDocumentWithRegionChangedIsRejected() {
    String folder = "teleport-join_ec2_test-instance1-usw2-2021";
    String original = new String(AwsFixtures.read(folder, "document.json"),
        StandardCharsets.UTF_8);
    byte[] moved = original.replace("us-west-2", "us-east-1").getBytes(StandardCharsets.UTF_8);
    byte[] detached = AwsDocumentVerifierFixturesTest.detach(
        AwsFixtures.read(folder, "rsa2048.der"));
    AwsDocumentVerifier verifier = new AwsDocumentVerifier(AwsCertificates.published(), ALL);
    Instant pending = Instant.parse("2021-09-03T21:25:44Z");

    assertThat(verifier.verify(original.getBytes(StandardCharsets.UTF_8),
        AwsSignatureForm.RSA2048, detached, pending).region()).isEqualTo("us-west-2");
    assertThatThrownBy(() -> verifier.verify(moved, AwsSignatureForm.RSA2048, detached,
        pending))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessage("verify-aws: rsa2048 signature for region us-east-1 rejected: the"
            + " message-digest signed attribute does not match the SHA-256 digest of the"
            + " document; candidates: B169CC401559A419 (valid, not tried)");
  }

  // ---- Certificates and keys ----

  @Test
  void certificateEmbeddedInPkcs7IsNotTrusted() {
    byte[] cms = RSA.cms(DOCUMENT, "SHA256withRSA", true, true, true);
    AwsDocumentVerifier verifier = new AwsDocumentVerifier(AwsCertificates.published(), ALL);

    assertThatThrownBy(() -> verifier.verify(DOCUMENT, AwsSignatureForm.RSA2048, cms, AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("the signature does not verify with any candidate")
        .hasMessageNotContaining(serial(RSA));
  }

  @Test
  void candidateOutsideValidityIsNotTried() {
    TestSigner future = TestSigner.generate("RSA", 2048, Instant.parse("2030-01-01T00:00:00Z"),
        Instant.parse("2040-01-01T00:00:00Z"));
    AwsDocumentVerifier verifier = new AwsDocumentVerifier(AwsCertificates.of(Map.of(
        AwsSignatureForm.RSA2048, Map.of("us-east-1", List.of(future.certificate)))), ALL);
    byte[] cms = future.cms(DOCUMENT);

    assertThat(verifier.verify(DOCUMENT, AwsSignatureForm.RSA2048, cms,
        Instant.parse("2030-01-01T00:00:00Z")).region()).isEqualTo("us-east-1");
    assertThat(verifier.verify(DOCUMENT, AwsSignatureForm.RSA2048, cms,
        Instant.parse("2040-01-01T00:00:00Z")).region()).isEqualTo("us-east-1");
    assertThatThrownBy(() -> verifier.verify(DOCUMENT, AwsSignatureForm.RSA2048, cms, AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessage("verify-aws: rsa2048 signature for region us-east-1 rejected: no candidate"
            + " certificate is valid at 2025-01-01T00:00:00Z; candidates: " + serial(future)
            + " (not valid at 2025-01-01T00:00:00Z, valid 2030-01-01T00:00:00Z to"
            + " 2040-01-01T00:00:00Z)");
  }

  @Test
  void certificatesSharingAKeyAreEachNamed() throws Exception {
    X509Certificate reissue = selfSigned(RSA, BigInteger.valueOf(0x1234));
    TestSigner other = TestSigner.generate("RSA", 2048);
    AwsDocumentVerifier verifier = new AwsDocumentVerifier(AwsCertificates.of(Map.of(
        AwsSignatureForm.SIGNATURE, Map.of("us-east-1", List.of(RSA.certificate, reissue)))),
        ALL);

    assertThat(verifier.verify(DOCUMENT, AwsSignatureForm.SIGNATURE,
        RSA.raw(DOCUMENT, "SHA256withRSA"), AT).region()).isEqualTo("us-east-1");
    assertThatThrownBy(() -> verifier.verify(DOCUMENT, AwsSignatureForm.SIGNATURE,
        other.raw(DOCUMENT, "SHA256withRSA"), AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessage("verify-aws: signature signature for region us-east-1 rejected: the"
            + " signature does not verify with any candidate; candidates: " + serial(RSA)
            + " (signature does not verify), 1234 (signature does not verify)");
  }

  @Test
  void keyTooSmallForRsa2048IsSkipped() {
    TestSigner small = TestSigner.generate("RSA", 1024);

    assertThatThrownBy(() -> publishedPlus(small).verify(DOCUMENT, AwsSignatureForm.RSA2048,
        small.cms(DOCUMENT), AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining(serial(small) + " (RSA-1024 key is shorter than 2048 bits)");
  }

  @Test
  void dsaKeyIsSkippedForBareSignature() {
    TestSigner dsa = TestSigner.generate("DSA", 1024);

    assertThatThrownBy(() -> publishedPlus(dsa).verify(DOCUMENT, AwsSignatureForm.SIGNATURE,
        dsa.raw(DOCUMENT, "SHA256withDSA"), AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining(serial(dsa)
            + " (key type DSA does not fit the signature algorithm)");
  }

  // ---- Algorithms and structure ----

  @ParameterizedTest
  @CsvSource({
      "SHA1withRSA, SHA-1",
      "SHA512withRSA, 2.16.840.1.101.3.4.2.3"})
  void digestOtherThanSha256IsRejectedForRsa2048(String algorithm, String digest) {
    byte[] cms = RSA.cms(DOCUMENT, algorithm, true, true, false);

    assertThatThrownBy(() -> publishedPlus(RSA).verify(DOCUMENT, AwsSignatureForm.RSA2048, cms,
        AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("rejected: digest algorithm " + digest + " is not allowed for form"
            + " rsa2048, expected [SHA-256]");
  }

  @ParameterizedTest
  @CsvSource({"SHA1withRSA", "SHA512withRSA"})
  void digestOtherThanSha256IsRejectedForBareSignature(String algorithm) {
    byte[] signature = RSA.raw(DOCUMENT, algorithm);

    assertThatThrownBy(() -> publishedPlus(RSA).verify(DOCUMENT, AwsSignatureForm.SIGNATURE,
        signature, AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("the signature does not verify with any candidate");
  }

  @Test
  void signerWithoutSignedAttributesIsVerifiedOverContent() {
    byte[] direct = RSA.cms(DOCUMENT, "SHA256withRSA", true, false, false);
    byte[] tampered = new String(DOCUMENT, StandardCharsets.UTF_8)
        .replace("111122223333", "111122223334").getBytes(StandardCharsets.UTF_8);
    byte[] directOverTampered = RSA.cms(DOCUMENT, "SHA256withRSA", false, false, false);

    assertThat(publishedPlus(RSA).verify(DOCUMENT, AwsSignatureForm.RSA2048, direct, AT).raw())
        .isEqualTo(DOCUMENT);
    assertThatThrownBy(() -> publishedPlus(RSA).verify(tampered, AwsSignatureForm.RSA2048,
        directOverTampered, AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("the signature does not verify with any candidate");
  }

  @Test
  void detachedTestSignatureIsVerifiedOverDocument() {
    byte[] detached = RSA.cms(DOCUMENT, "SHA256withRSA", false, true, false);

    assertThat(publishedPlus(RSA).verify(DOCUMENT, AwsSignatureForm.RSA2048, detached, AT)
        .raw()).isEqualTo(DOCUMENT);
  }

  @Test
  void embeddedDocumentMustMatchByteForByte() {
    byte[] withNewline = Arrays.copyOf(DOCUMENT, DOCUMENT.length + 1);
    withNewline[DOCUMENT.length] = '\n';
    byte[] cms = RSA.cms(DOCUMENT);

    assertThatThrownBy(() -> publishedPlus(RSA).verify(withNewline, AwsSignatureForm.RSA2048,
        cms, AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessage("verify-aws: rsa2048 signature for region us-east-1 rejected: the PKCS#7"
            + " embeds a document that differs from the one presented (" + DOCUMENT.length
            + " bytes embedded, " + withNewline.length + " bytes presented); candidates:"
            + " B169CC401559A419 (valid, not tried), " + serial(RSA) + " (valid, not tried)");
  }

  @Test
  void twoSignersAreRejected() {
    byte[] cms = RSA.cmsWithTwoSigners(DOCUMENT, TestSigner.generate("RSA", 2048));

    assertThatThrownBy(() -> publishedPlus(RSA).verify(DOCUMENT, AwsSignatureForm.RSA2048, cms,
        AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("rejected: the PKCS#7 has 2 signers, expected exactly 1");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "not base64 at all!|the signature is neither DER nor valid base64",
      "-----BEGIN PKCS7-----\\nMIIB\\n-----END CMS-----|the PEM armour BEGIN PKCS7 has no matching"
          + " END line",
      "AAAA|the PKCS#7 decodes to something other than a DER SEQUENCE",
      "MAA=|the PKCS#7 is not a valid CMS SignedData"})
  void undecodableSignatureIsRejected(String text, String reason) {
    byte[] signature = text.replace("\\n", "\n").getBytes(StandardCharsets.US_ASCII);

    assertThatThrownBy(() -> publishedPlus(RSA).verify(DOCUMENT, AwsSignatureForm.RSA2048,
        signature, AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageStartingWith("verify-aws: rsa2048 signature for region us-east-1 rejected: "
            + reason);
  }

  @Test
  void undecodableEmbeddedSignatureIsRejectedBeforeRegion() {
    byte[] garbage = "%%%".getBytes(StandardCharsets.US_ASCII);

    assertThatThrownBy(() -> publishedPlus(RSA).verifyEmbedded(AwsSignatureForm.PKCS7, garbage,
        AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageStartingWith("verify-aws: pkcs7 signature rejected before its region was"
            + " read: the signature is neither DER nor valid base64");
  }

  @Test
  void oversizedSignatureIsRejected() {
    byte[] huge = new byte[SignatureEncoding.MAX_SIGNATURE_BYTES + 1];
    huge[0] = 0x30;

    assertThatThrownBy(() -> publishedPlus(RSA).verify(DOCUMENT, AwsSignatureForm.RSA2048, huge,
        AT))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("rejected: the signature is 65537 bytes, more than the maximum of"
            + " 65536");
  }

  @Test
  void embeddedVerificationNeedsPkcs7Form() {
    assertThatThrownBy(() -> publishedPlus(RSA).verifyEmbedded(AwsSignatureForm.SIGNATURE,
        RSA.raw(DOCUMENT, "SHA256withRSA"), AT))
        .isInstanceOf(MalformedRequestException.class)
        .hasMessage("verify-aws: form signature carries no document: pass the document and the"
            + " signature together");
  }

  @Test
  void unparseableDocumentIsMalformed() {
    byte[] document = "{\"region\" : \"us-east-1\"}".getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> publishedPlus(RSA).verify(document, AwsSignatureForm.RSA2048,
        RSA.cms(document), AT))
        .isInstanceOf(MalformedRequestException.class)
        .hasMessage("verify-aws: document field availabilityZone is missing");
  }

  private static X509Certificate selfSigned(TestSigner signer, BigInteger serial)
      throws Exception {
    X500Name name = new X500Name("CN=iidca test reissue");
    return new JcaX509CertificateConverter().setProvider(Providers.bouncyCastle())
        .getCertificate(new JcaX509v3CertificateBuilder(name, serial,
            Date.from(Instant.parse("2010-01-01T00:00:00Z")),
            Date.from(Instant.parse("2100-01-01T00:00:00Z")), name,
            signer.keyPair.getPublic())
            .build(new JcaContentSignerBuilder("SHA256withRSA")
                .setProvider(Providers.bouncyCastle()).build(signer.keyPair.getPrivate())));
  }
}
