package io.iidca.ca.pki;

import static org.assertj.core.api.Assertions.assertThat;

import io.iidca.ca.error.UnavailableException;
import io.iidca.ca.store.Revocation;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.oiw.OIWObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.bouncycastle.cert.ocsp.RespID;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.cert.ocsp.SingleResp;
import org.bouncycastle.cert.ocsp.UnknownStatus;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link OcspResponder}: one signed status per CertID (RFC 6960, 4.2), the nonce echoed, and an
 * error status instead of an exception for every malformed request.
 */
class OcspResponderTest {

  static final Instant NOW = Instant.parse("2026-03-01T12:00:00.750Z");
  static final Instant NOW_SECONDS = NOW.truncatedTo(ChronoUnit.SECONDS);
  static final Instant REVOKED_AT = Instant.parse("2026-03-01T11:15:42.123Z");
  static final ASN1ObjectIdentifier NONCE = OCSPObjectIdentifiers.id_pkix_ocsp_nonce;

  static Issuer issuer;
  static X509Certificate intermediate;
  static X509CertificateHolder issuerHolder;
  static X509CertificateHolder otherIssuerHolder;
  static DigestCalculatorProvider digests;
  static BigInteger goodSerial;
  static BigInteger compromisedSerial;
  static BigInteger unspecifiedSerial;
  static BigInteger unrecordedSerial;
  static MapSource source;
  static OcspResponder responder;

  /** An in-memory store of issued serials and revocations. */
  static class MapSource implements OcspResponder.StatusSource {
    final Set<String> issued = new HashSet<>();
    final Map<String, Revocation> revocations = new HashMap<>();

    @Override
    public Optional<Revocation> findRevocation(String serial) {
      return Optional.ofNullable(revocations.get(serial));
    }

    @Override
    public boolean isIssued(String serial) {
      return issued.contains(serial);
    }
  }

  @BeforeAll
  static void createCa() throws Exception {
    Instant created = Instant.now();
    KeyPair rootKeys = KeySpec.EC_P256.generate();
    X509Certificate root = CaCertificates.root("Test", rootKeys, created);
    KeyPair intermediateKeys = KeySpec.EC_P256.generate();
    intermediate = CaCertificates.intermediate("Test", intermediateKeys.getPublic(), root,
        rootKeys.getPrivate(), created);
    issuer = new Issuer(intermediateKeys.getPrivate(), intermediate, root);
    issuerHolder = new JcaX509CertificateHolder(intermediate);

    // A second CA with the same names but other keys, so only the issuer key hash differs.
    KeyPair otherRootKeys = KeySpec.EC_P256.generate();
    X509Certificate otherRoot = CaCertificates.root("Test", otherRootKeys, created);
    otherIssuerHolder = new JcaX509CertificateHolder(CaCertificates.intermediate("Test",
        KeySpec.EC_P256.generate().getPublic(), otherRoot, otherRootKeys.getPrivate(), created));

    digests = new JcaDigestCalculatorProviderBuilder().build();
    goodSerial = CaCertificates.randomSerial();
    compromisedSerial = CaCertificates.randomSerial();
    unspecifiedSerial = CaCertificates.randomSerial();
    unrecordedSerial = CaCertificates.randomSerial();
    source = new MapSource();
    for (BigInteger serial : List.of(goodSerial, compromisedSerial, unspecifiedSerial)) {
      source.issued.add(serial.toString(16));
    }
    revoke(compromisedSerial, 1);
    revoke(unspecifiedSerial, 0);
    responder = new OcspResponder(issuer, source);
  }

  static void revoke(BigInteger serial, int reasonCode) {
    source.revocations.put(serial.toString(16), new Revocation(serial.toString(16), REVOKED_AT,
        reasonCode, "test", "operator"));
  }

  static CertificateID certId(ASN1ObjectIdentifier hash, X509CertificateHolder issuerCert,
      BigInteger serial) throws Exception {
    return new CertificateID(digests.get(new AlgorithmIdentifier(hash)), issuerCert, serial);
  }

  static CertificateID sha1Id(BigInteger serial) throws Exception {
    return certId(OIWObjectIdentifiers.idSHA1, issuerHolder, serial);
  }

  static byte[] request(List<CertificateID> ids, Extension... extensions) throws Exception {
    OCSPReqBuilder builder = new OCSPReqBuilder();
    for (CertificateID id : ids) {
      builder.addRequest(id);
    }
    if (extensions.length > 0) {
      builder.setRequestExtensions(new Extensions(extensions));
    }
    return builder.build().getEncoded();
  }

  /** Returns a nonce encoded as RFC 6960 defines it: an OCTET STRING inside extnValue. */
  static Extension nonce(int octets) throws Exception {
    byte[] value = new byte[octets];
    Arrays.fill(value, (byte) 0x5a);
    return new Extension(NONCE, false, new DEROctetString(value).getEncoded());
  }

  static BasicOCSPResp successful(byte[] request) throws Exception {
    OCSPResp response = new OCSPResp(responder.respond(request, NOW));
    assertThat(response.getStatus()).isEqualTo(OCSPRespBuilder.SUCCESSFUL);
    return (BasicOCSPResp) response.getResponseObject();
  }

  static SingleResp single(CertificateID id) throws Exception {
    SingleResp[] responses = successful(request(List.of(id))).getResponses();
    assertThat(responses).hasSize(1);
    assertThat(responses[0].getCertID()).isEqualTo(id);
    return responses[0];
  }

  static Stream<Arguments> statuses() {
    return Stream.of(
        Arguments.of("good, SHA-1 CertID", OIWObjectIdentifiers.idSHA1, "good"),
        Arguments.of("good, SHA-256 CertID", NISTObjectIdentifiers.id_sha256, "good"),
        Arguments.of("good, SHA-384 CertID", NISTObjectIdentifiers.id_sha384, "good"),
        Arguments.of("good, SHA-512 CertID", NISTObjectIdentifiers.id_sha512, "good"),
        Arguments.of("unknown, MD5 CertID", PKCSObjectIdentifiers.md5, "unknown"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("statuses")
  void recordedSerialByHashAlgorithm(String name, ASN1ObjectIdentifier hash, String expected)
      throws Exception {
    SingleResp response = single(certId(hash, issuerHolder, goodSerial));

    if (expected.equals("good")) {
      assertThat(response.getCertStatus()).isEqualTo(CertificateStatus.GOOD);
    } else {
      assertThat(response.getCertStatus()).isInstanceOf(UnknownStatus.class);
    }
  }

  @Test
  void goodResponseIsSignedByIntermediate() throws Exception {
    BasicOCSPResp basic = successful(request(List.of(sha1Id(goodSerial))));

    assertThat(basic.isSignatureValid(new JcaContentVerifierProviderBuilder()
        .build(intermediate.getPublicKey()))).isTrue();
    assertThat(basic.getResponderId()).isEqualTo(new RespID(
        issuerHolder.getSubjectPublicKeyInfo(), digests.get(CertificateID.HASH_SHA1)));
    assertThat(basic.getResponderId().toASN1Primitive().getName()).isNull();
    assertThat(basic.getCerts()).isEmpty();
    assertThat(basic.getProducedAt().toInstant()).isEqualTo(NOW_SECONDS);
    assertThat(basic.getExtensionOIDs()).isEmpty();
    SingleResp response = basic.getResponses()[0];
    assertThat(response.getThisUpdate().toInstant()).isEqualTo(NOW_SECONDS);
    assertThat(response.getNextUpdate().toInstant())
        .isEqualTo(NOW_SECONDS.plus(Duration.ofHours(1)));
  }

  @Test
  void revokedSerialHasTimeAndReason() throws Exception {
    SingleResp response = single(sha1Id(compromisedSerial));

    assertThat(response.getCertStatus()).isInstanceOf(RevokedStatus.class);
    RevokedStatus revoked = (RevokedStatus) response.getCertStatus();
    assertThat(revoked.getRevocationTime().toInstant())
        .isEqualTo(REVOKED_AT.truncatedTo(ChronoUnit.SECONDS));
    assertThat(revoked.hasRevocationReason()).isTrue();
    assertThat(revoked.getRevocationReason()).isEqualTo(1);
  }

  @Test
  void revokedUnspecifiedOmitsReason() throws Exception {
    SingleResp response = single(sha1Id(unspecifiedSerial));

    assertThat(response.getCertStatus()).isInstanceOf(RevokedStatus.class);
    RevokedStatus revoked = (RevokedStatus) response.getCertStatus();
    assertThat(revoked.getRevocationTime().toInstant())
        .isEqualTo(REVOKED_AT.truncatedTo(ChronoUnit.SECONDS));
    assertThat(revoked.hasRevocationReason()).isFalse();
  }

  @Test
  void unrecordedSerialIsUnknown() throws Exception {
    SingleResp response = single(sha1Id(unrecordedSerial));

    assertThat(response.getCertStatus()).isInstanceOf(UnknownStatus.class);
    assertThat(response.getNextUpdate().toInstant())
        .isEqualTo(NOW_SECONDS.plus(Duration.ofHours(1)));
  }

  @Test
  void wrongIssuerKeyIsUnknown() throws Exception {
    for (BigInteger serial : List.of(goodSerial, compromisedSerial)) {
      SingleResp response = single(certId(OIWObjectIdentifiers.idSHA1, otherIssuerHolder,
          serial));

      assertThat(response.getCertStatus()).as(serial.toString(16))
          .isInstanceOf(UnknownStatus.class);
    }
  }

  @Test
  void wrongIssuerNameIsUnknown() throws Exception {
    CertificateID genuine = sha1Id(goodSerial);
    byte[] otherNameHash = genuine.getIssuerNameHash().clone();
    otherNameHash[0] ^= 1;
    CertificateID forged = new CertificateID(new org.bouncycastle.asn1.ocsp.CertID(
        genuine.toASN1Primitive().getHashAlgorithm(), new DEROctetString(otherNameHash),
        genuine.toASN1Primitive().getIssuerKeyHash(),
        genuine.toASN1Primitive().getSerialNumber()));

    SingleResp response = single(forged);

    assertThat(response.getCertStatus()).isInstanceOf(UnknownStatus.class);
  }

  @Test
  void nonPositiveSerialIsUnknown() throws Exception {
    source.issued.add(BigInteger.valueOf(-5).toString(16));
    try {
      SingleResp response = single(sha1Id(BigInteger.valueOf(-5)));

      assertThat(response.getCertStatus()).isInstanceOf(UnknownStatus.class);
    } finally {
      source.issued.remove(BigInteger.valueOf(-5).toString(16));
    }
  }

  @Test
  void severalCertIdsAnsweredInOrder() throws Exception {
    List<CertificateID> ids = List.of(sha1Id(goodSerial), sha1Id(compromisedSerial),
        sha1Id(unrecordedSerial));

    SingleResp[] responses = successful(request(ids)).getResponses();

    assertThat(responses).hasSize(3);
    assertThat(responses[0].getCertID()).isEqualTo(ids.get(0));
    assertThat(responses[0].getCertStatus()).isEqualTo(CertificateStatus.GOOD);
    assertThat(responses[1].getCertID()).isEqualTo(ids.get(1));
    assertThat(responses[1].getCertStatus()).isInstanceOf(RevokedStatus.class);
    assertThat(responses[2].getCertID()).isEqualTo(ids.get(2));
    assertThat(responses[2].getCertStatus()).isInstanceOf(UnknownStatus.class);
  }

  static Stream<Arguments> nonces() throws Exception {
    byte[] raw = new byte[16];
    Arrays.fill(raw, (byte) 0x11);
    return Stream.of(
        Arguments.of("1 octet", nonce(1)),
        Arguments.of("32 octets, as RFC 8954 clients send", nonce(32)),
        Arguments.of("128 octets, the maximum", nonce(128)),
        Arguments.of("critical", new Extension(NONCE, true, nonce(16).getExtnValue())),
        Arguments.of("raw bytes, as clients before RFC 6960 sent",
            new Extension(NONCE, false, raw)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("nonces")
  void nonceIsEchoed(String name, Extension nonce) throws Exception {
    BasicOCSPResp basic = successful(request(List.of(sha1Id(goodSerial)), nonce));

    Extension echoed = basic.getExtension(NONCE);
    assertThat(echoed).isNotNull();
    assertThat(echoed.getExtnValue()).isEqualTo(nonce.getExtnValue());
    assertThat(echoed.isCritical()).isFalse();
    assertThat(basic.getExtensionOIDs()).containsExactly(NONCE);
  }

  @Test
  void unknownNonCriticalExtensionIsIgnored() throws Exception {
    Extension unknown = new Extension(new ASN1ObjectIdentifier("1.3.6.1.4.1.99999.1"), false,
        new DEROctetString(new byte[] {1}).getEncoded());

    BasicOCSPResp basic = successful(request(List.of(sha1Id(goodSerial)), unknown));

    assertThat(basic.getResponses()[0].getCertStatus()).isEqualTo(CertificateStatus.GOOD);
    assertThat(basic.getExtensionOIDs()).isEmpty();
  }

  static Stream<Arguments> malformedRequests() throws Exception {
    byte[] valid = request(List.of(sha1Id(goodSerial)));
    byte[] trailing = Arrays.copyOf(valid, valid.length + 1);
    List<CertificateID> tooMany = new ArrayList<>();
    for (int i = 0; i < OcspResponder.MAX_CERT_IDS + 1; i++) {
      tooMany.add(sha1Id(goodSerial));
    }
    Extension criticalUnknown = new Extension(new ASN1ObjectIdentifier("1.3.6.1.4.1.99999.1"),
        true, new DEROctetString(new byte[] {1}).getEncoded());
    return Stream.of(
        Arguments.of("empty body", new byte[0]),
        Arguments.of("not DER", "GET / HTTP/1.1".getBytes(java.nio.charset.StandardCharsets.UTF_8)),
        Arguments.of("a certificate, not a request", intermediate.getEncoded()),
        Arguments.of("truncated request", Arrays.copyOf(valid, valid.length - 3)),
        Arguments.of("trailing byte after the request", trailing),
        Arguments.of("no CertID", request(List.of())),
        Arguments.of("33 CertIDs", request(tooMany)),
        Arguments.of("empty nonce", request(List.of(sha1Id(goodSerial)), nonce(0))),
        Arguments.of("129-octet nonce", request(List.of(sha1Id(goodSerial)), nonce(129))),
        Arguments.of("unknown critical extension",
            request(List.of(sha1Id(goodSerial)), criticalUnknown)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedRequests")
  void malformedRequestGetsMalformedStatus(String name, byte[] request) throws Exception {
    OCSPResp response = new OCSPResp(responder.respond(request, NOW));

    assertThat(response.getStatus()).isEqualTo(OCSPRespBuilder.MALFORMED_REQUEST);
    assertThat(response.getResponseObject()).isNull();
  }

  @Test
  void unreachableStoreGetsTryLater() throws Exception {
    OcspResponder unavailable = new OcspResponder(issuer, new MapSource() {
      @Override
      public Optional<Revocation> findRevocation(String serial) {
        throw new UnavailableException("store", "connection refused");
      }
    });

    OCSPResp response = new OCSPResp(unavailable.respond(request(List.of(sha1Id(goodSerial))),
        NOW));

    assertThat(response.getStatus()).isEqualTo(OCSPRespBuilder.TRY_LATER);
    assertThat(response.getResponseObject()).isNull();
  }

  @Test
  void unexpectedFailureGetsInternalError() throws Exception {
    OcspResponder failing = new OcspResponder(issuer, new MapSource() {
      @Override
      public boolean isIssued(String serial) {
        throw new IllegalStateException("corrupt row");
      }
    });

    OCSPResp response = new OCSPResp(failing.respond(request(List.of(sha1Id(goodSerial))),
        NOW));

    assertThat(response.getStatus()).isEqualTo(OCSPRespBuilder.INTERNAL_ERROR);
    assertThat(response.getResponseObject()).isNull();
  }
}
