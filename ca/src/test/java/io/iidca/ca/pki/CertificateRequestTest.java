package io.iidca.ca.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.iidca.ca.error.MalformedRequestException;
import java.io.IOException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.ECPublicKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.pkcs.CertificationRequest;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.OtherName;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link CertificateRequest#parse}: what a valid PKCS#10 request yields, and that every broken
 * one is a {@link MalformedRequestException} (HTTP 400) whose reason, which clients read, names
 * the problem without Java class names.
 */
class CertificateRequestTest {

  static final KeyPair EC = KeySpec.EC_P256.generate();
  static final KeyPair RSA = KeySpec.of("RSA", null, 2048).generate();
  static final X500Name APP = cn("app.internal");

  @Test
  void parseReadsNamesKeyAndCaFlag() throws Exception {
    ExtensionsGenerator extensions = new ExtensionsGenerator();
    extensions.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
        new GeneralName[] {
            new GeneralName(GeneralName.dNSName, "a.internal"),
            new GeneralName(GeneralName.iPAddress, "10.0.0.1"),
            new GeneralName(GeneralName.iPAddress, "::1"),
            new GeneralName(GeneralName.rfc822Name, "ops@example.com"),
            new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://example.org/a")}));
    extensions.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));

    CertificateRequest request = CertificateRequest.parse(
        pem(build(EC, "SHA256withECDSA", APP, extensions)), "decode");

    assertThat(request.commonName()).isEqualTo("app.internal");
    assertThat(request.sans()).containsExactly("a.internal", "10.0.0.1", "0:0:0:0:0:0:0:1",
        "ops@example.com", "spiffe://example.org/a");
    assertThat(request.publicKey().getEncoded()).isEqualTo(EC.getPublic().getEncoded());
    assertThat(request.requestsCa()).isTrue();
  }

  static Stream<Arguments> supportedAlgorithms() {
    return Stream.of(
        Arguments.of(EC, "SHA256withECDSA"),
        Arguments.of(KeySpec.of("EC", "P-384", null).generate(), "SHA384withECDSA"),
        Arguments.of(KeySpec.of("EC", "P-521", null).generate(), "SHA512withECDSA"),
        Arguments.of(RSA, "SHA256withRSA"),
        Arguments.of(RSA, "SHA384withRSA"),
        Arguments.of(RSA, "SHA512withRSA"),
        Arguments.of(KeySpec.of("OKP", null, null).generate(), "Ed25519"));
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("supportedAlgorithms")
  void parseAcceptsSupportedAlgorithm(KeyPair keys, String algorithm) throws Exception {
    CertificateRequest request = CertificateRequest.parse(
        pem(build(keys, algorithm, APP, null)), "decode");

    assertThat(request.commonName()).isEqualTo("app.internal");
    assertThat(request.sans()).isEmpty();
    assertThat(request.requestsCa()).isFalse();
  }

  @Test
  void parseKeepsExplicitCurveParameters() throws Exception {
    ECPublicKey named = (ECPublicKey) EC.getPublic();
    ECParameterSpec parameters = named.getParams();
    ECParameterSpec explicit = new ECParameterSpec(parameters.getCurve(),
        parameters.getGenerator(), parameters.getOrder(), parameters.getCofactor());
    KeyFactory factory = KeyFactory.getInstance("EC", Providers.bouncyCastle());
    KeyPair keys = new KeyPair(
        factory.generatePublic(new ECPublicKeySpec(named.getW(), explicit)),
        factory.generatePrivate(new ECPrivateKeySpec(
            ((ECPrivateKey) EC.getPrivate()).getS(), explicit)));

    CertificateRequest request = CertificateRequest.parse(
        pem(build(keys, "SHA256withECDSA", APP, null)), "decode");

    // Policy denies such keys by their encoding, so the parameters must not become a name.
    assertThat(SubjectPublicKeyInfo.getInstance(request.publicKey().getEncoded())
        .getAlgorithm().getParameters()).isNotInstanceOf(ASN1ObjectIdentifier.class);
  }

  @Test
  void parseAcceptsNewCertificateRequestLabel() throws Exception {
    String pem = "-----BEGIN NEW CERTIFICATE REQUEST-----\n"
        + Base64.getMimeEncoder().encodeToString(build(EC, "SHA256withECDSA", APP, null)
            .getEncoded())
        + "\n-----END NEW CERTIFICATE REQUEST-----\n";

    assertThat(CertificateRequest.parse(pem, "decode").commonName()).isEqualTo("app.internal");
  }

  @Test
  void parseWithoutCommonNameGivesNull() throws Exception {
    X500Name organization = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "x")
        .build();

    CertificateRequest request = CertificateRequest.parse(
        pem(build(EC, "SHA256withECDSA", organization, null)), "decode");

    assertThat(request.commonName()).isNull();
  }

  /** Returns rows of the case, the PEM text, and the start of the reason. */
  static Stream<Arguments> malformedRequests() throws Exception {
    byte[] valid = build(EC, "SHA256withECDSA", APP, null).getEncoded();
    byte[] rsaValid = build(RSA, "SHA256withRSA", APP, null).getEncoded();
    byte[] badRsaSignature = rsaValid.clone();
    badRsaSignature[badRsaSignature.length - 1] ^= 0x01;
    byte[] badEcSignature = valid.clone();
    badEcSignature[badEcSignature.length - 1] ^= 0x01;
    String certificate = Pem.encode(CaCertificates.root("x", EC, java.time.Instant.now()));
    return Stream.of(
        row("garbage", "hello", "csr is not a PEM certificate request"),
        row("empty", "", "csr is not a PEM certificate request"),
        row("certificate instead of request", certificate,
            "csr is not a PEM certificate request"),
        row("invalid base64 in block", "-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n"
            + "-----END CERTIFICATE REQUEST-----\n", "csr is not a PEM certificate request"),
        row("request under another PEM label", "-----BEGIN X509 CERTIFICATE REQUEST-----\n"
            + Base64.getMimeEncoder().encodeToString(valid)
            + "\n-----END X509 CERTIFICATE REQUEST-----\n",
            "csr is not a PEM certificate request"),
        row("truncated DER", block(Arrays.copyOf(valid, valid.length / 2)),
            "csr is not a PEM certificate request"),
        row("trailing bytes after DER", block(Arrays.copyOf(valid, valid.length + 4)),
            "csr is not a PEM certificate request"),
        row("RSA signature flipped", block(badRsaSignature), "csr signature is invalid"),
        row("ECDSA signature flipped", block(badEcSignature), "csr signature"),
        row("RSA-PSS", pem(build(RSA, "SHA256withRSAandMGF1", APP, null)),
            "csr signature algorithm 1.2.840.113549.1.1.10 is not supported"),
        row("SHA-1 with RSA", pem(build(RSA, "SHA1withRSA", APP, null)),
            "csr signature algorithm 1.2.840.113549.1.1.5 is not supported"),
        row("SHA-1 with ECDSA", pem(build(EC, "SHA1withECDSA", APP, null)),
            "csr signature algorithm 1.2.840.10045.4.1 is not supported"),
        row("RSA algorithm over an EC key", block(relabel(valid,
            PKCSObjectIdentifiers.sha256WithRSAEncryption)), "csr signature cannot be verified"
            + " with its public key: the key must be valid and of the type that the signature"
            + " algorithm SHA256withRSA names"),
        row("otherName SAN", pem(withSan(new GeneralName(GeneralName.otherName,
            new OtherName(new ASN1ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"),
                new DERUTF8String("admin@corp"))))),
            "csr requests a subject alternative name of unsupported type 0"),
        row("directoryName SAN", pem(withSan(new GeneralName(cn("admin")))),
            "csr requests a subject alternative name of unsupported type 4"),
        row("registeredID SAN", pem(withSan(new GeneralName(GeneralName.registeredID,
            "1.2.3.4"))), "csr requests a subject alternative name of unsupported type 8"),
        row("IP SAN of 5 octets", pem(withSan(new GeneralName(GeneralName.iPAddress,
            new DEROctetString(new byte[5])))), "csr holds an IP address of 5 octets"),
        row("common name that is an INTEGER", pem(build(EC, "SHA256withECDSA",
            new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, new ASN1Integer(7))
                .build(), null)), "csr common name is not a string"),
        row("SAN extension that is not GeneralNames", pem(withRawExtension(
            Extension.subjectAlternativeName, new ASN1Integer(1))),
            "csr subjectAltName or basicConstraints extension is invalid"),
        row("basicConstraints that is not a SEQUENCE", pem(withRawExtension(
            Extension.basicConstraints, new DERUTF8String("CA"))),
            "csr subjectAltName or basicConstraints extension is invalid"),
        row("extensionRequest that is not Extensions", pem(build(EC, "SHA256withECDSA", APP,
            null, new DERUTF8String("x"))),
            "csr extensionRequest attribute is not a valid Extensions structure"));
  }

  static Arguments row(String name, String pem, String reason) {
    return Arguments.of(name, pem, reason);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedRequests")
  void parseRejectsMalformedRequestCleanly(String name, String pem, String reason) {
    MalformedRequestException error = catchThrowableOfType(MalformedRequestException.class,
        () -> CertificateRequest.parse(pem, "decode"));

    assertThat(error).as(name).isNotNull();
    assertThat(error.stage()).isEqualTo("decode");
    assertThat(error.reason()).startsWith(reason);
    assertThat(error.reason()).doesNotContainPattern("[A-Z][A-Za-z]*(Exception|Error)\\b");
  }

  static X500Name cn(String commonName) {
    return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
  }

  static PKCS10CertificationRequest build(KeyPair keys, String algorithm, X500Name subject,
      ExtensionsGenerator extensions) throws Exception {
    return build(keys, algorithm, subject, extensions, null);
  }

  static PKCS10CertificationRequest build(KeyPair keys, String algorithm, X500Name subject,
      ExtensionsGenerator extensions, ASN1Encodable rawExtensionRequest) throws Exception {
    var builder = new JcaPKCS10CertificationRequestBuilder(subject, keys.getPublic());
    if (extensions != null) {
      builder.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest,
          extensions.generate());
    }
    if (rawExtensionRequest != null) {
      builder.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest,
          rawExtensionRequest);
    }
    return builder.build(new JcaContentSignerBuilder(algorithm)
        .setProvider(Providers.bouncyCastle()).build(keys.getPrivate()));
  }

  static PKCS10CertificationRequest withSan(GeneralName name) throws Exception {
    ExtensionsGenerator extensions = new ExtensionsGenerator();
    extensions.addExtension(Extension.subjectAlternativeName, false,
        new GeneralNames(name));
    return build(EC, "SHA256withECDSA", APP, extensions);
  }

  static PKCS10CertificationRequest withRawExtension(ASN1ObjectIdentifier oid,
      ASN1Encodable value) throws Exception {
    ExtensionsGenerator extensions = new ExtensionsGenerator();
    extensions.addExtension(oid, false, value.toASN1Primitive().getEncoded());
    return build(EC, "SHA256withECDSA", APP, extensions);
  }

  /** Re-encodes a request with another signature algorithm identifier, same signature bits. */
  static byte[] relabel(byte[] der, ASN1ObjectIdentifier algorithm) throws IOException {
    CertificationRequest request = CertificationRequest.getInstance(der);
    return new CertificationRequest(request.getCertificationRequestInfo(),
        new AlgorithmIdentifier(algorithm, DERNull.INSTANCE),
        new DERBitString(request.getSignature().getOctets())).getEncoded();
  }

  static String pem(PKCS10CertificationRequest request) {
    return Pem.encode(request);
  }

  static String block(byte[] der) {
    return "-----BEGIN CERTIFICATE REQUEST-----\n" + Base64.getMimeEncoder().encodeToString(der)
        + "\n-----END CERTIFICATE REQUEST-----\n";
  }
}
