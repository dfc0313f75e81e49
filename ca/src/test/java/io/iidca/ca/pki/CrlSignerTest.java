package io.iidca.ca.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.ca.store.Revocation;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.cert.CRLReason;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link CrlSigner}: the CRL parses with the JCA, verifies with the intermediate's key, and
 * lists each revocation with its date and RFC 5280 reasonCode (none for unspecified).
 */
class CrlSignerTest {

  static final Instant NOW = Instant.parse("2026-03-01T12:00:00.250Z");
  static final Instant NOW_SECONDS = NOW.truncatedTo(ChronoUnit.SECONDS);
  static X509Certificate intermediate;
  static Issuer issuer;

  @BeforeAll
  static void createCa() {
    Instant created = Instant.now();
    KeyPair rootKeys = KeySpec.EC_P256.generate();
    X509Certificate root = CaCertificates.root("Test", rootKeys, created);
    KeyPair intermediateKeys = KeySpec.EC_P256.generate();
    intermediate = CaCertificates.intermediate("Test", intermediateKeys.getPublic(), root,
        rootKeys.getPrivate(), created);
    issuer = new Issuer(intermediateKeys.getPrivate(), intermediate, root);
  }

  static Revocation revocation(String serial, int reasonCode, Instant at) {
    return new Revocation(serial, at, reasonCode, "test", "operator");
  }

  static X509CRL parse(X509CRL crl) throws Exception {
    return (X509CRL) CertificateFactory.getInstance("X.509")
        .generateCRL(new ByteArrayInputStream(crl.getEncoded()));
  }

  static BigInteger crlNumber(X509CRL crl) throws Exception {
    byte[] value = crl.getExtensionValue(Extension.cRLNumber.getId());
    return ASN1Integer.getInstance(ASN1Primitive.fromByteArray(
        ASN1OctetString.getInstance(value).getOctets())).getValue();
  }

  @Test
  void crlHeaderAndExtensions() throws Exception {
    X509CRL crl = parse(new CrlSigner(issuer).sign(List.of(), NOW));

    crl.verify(intermediate.getPublicKey());
    assertThat(crl.getVersion()).isEqualTo(2);
    assertThat(crl.getIssuerX500Principal()).isEqualTo(intermediate.getSubjectX500Principal());
    assertThat(crl.getThisUpdate().toInstant()).isEqualTo(NOW_SECONDS);
    assertThat(crl.getNextUpdate().toInstant()).isEqualTo(NOW_SECONDS.plus(Duration.ofHours(24)));
    assertThat(crl.getSigAlgName()).isEqualTo("SHA256withECDSA");
    assertThat(crl.getRevokedCertificates()).isNull();
    assertThat(crl.getCriticalExtensionOIDs()).isEmpty();
    assertThat(crl.getNonCriticalExtensionOIDs()).containsExactlyInAnyOrder(
        Extension.cRLNumber.getId(), Extension.authorityKeyIdentifier.getId());
    assertThat(crlNumber(crl)).isEqualTo(BigInteger.valueOf(NOW.toEpochMilli()));
  }

  @Test
  void authorityKeyIdentifierIsIntermediateKeyIdentifier() throws Exception {
    X509CRL crl = parse(new CrlSigner(issuer).sign(List.of(), NOW));

    byte[] authority = ASN1OctetString.getInstance(crl.getExtensionValue(
        Extension.authorityKeyIdentifier.getId())).getOctets();
    byte[] subject = ASN1OctetString.getInstance(intermediate.getExtensionValue(
        Extension.subjectKeyIdentifier.getId())).getOctets();
    AuthorityKeyIdentifier parsed = AuthorityKeyIdentifier.getInstance(authority);
    assertThat(parsed.getKeyIdentifier())
        .isEqualTo(SubjectKeyIdentifier.getInstance(subject).getKeyIdentifier());
    assertThat(parsed.getAuthorityCertIssuer()).isNull();
    assertThat(parsed.getAuthorityCertSerialNumber()).isNull();
  }

  static Stream<Arguments> reasons() {
    return Stream.of(
        Arguments.of(0, null),
        Arguments.of(1, CRLReason.KEY_COMPROMISE),
        Arguments.of(3, CRLReason.AFFILIATION_CHANGED),
        Arguments.of(4, CRLReason.SUPERSEDED),
        Arguments.of(5, CRLReason.CESSATION_OF_OPERATION),
        Arguments.of(9, CRLReason.PRIVILEGE_WITHDRAWN),
        Arguments.of(7, null),
        Arguments.of(11, null),
        Arguments.of(-1, null));
  }

  @ParameterizedTest(name = "reason code {0} -> {1}")
  @MethodSource("reasons")
  void entryReasonCode(int reasonCode, CRLReason expected) throws Exception {
    Instant revokedAt = NOW.minus(Duration.ofMinutes(30));
    X509CRL crl = parse(new CrlSigner(issuer).sign(
        List.of(revocation("4a3f00c1", reasonCode, revokedAt)), NOW));

    X509CRLEntry entry = crl.getRevokedCertificate(new BigInteger("4a3f00c1", 16));
    assertThat(entry).isNotNull();
    assertThat(entry.getRevocationDate().toInstant())
        .isEqualTo(revokedAt.truncatedTo(ChronoUnit.SECONDS));
    assertThat(entry.getRevocationReason()).isEqualTo(expected);
    if (expected == null) {
      assertThat(entry.getExtensionValue(Extension.reasonCode.getId())).isNull();
      assertThat(entry.hasExtensions()).isFalse();
    } else {
      assertThat(entry.getNonCriticalExtensionOIDs())
          .containsExactly(Extension.reasonCode.getId());
    }
  }

  @Test
  void everyRevocationIsListed() throws Exception {
    List<Revocation> revocations = List.of(
        revocation("40112233445566778899aabbccddeeff", 1, NOW.minus(Duration.ofHours(3))),
        revocation("7fffffffffffffffffffffffffffffff", 0, NOW.minus(Duration.ofHours(2))),
        revocation("1", 4, NOW.minus(Duration.ofHours(1))));

    X509CRL crl = parse(new CrlSigner(issuer).sign(revocations, NOW));

    crl.verify(intermediate.getPublicKey());
    assertThat(crl.getRevokedCertificates()).hasSize(3);
    for (Revocation revocation : revocations) {
      X509CRLEntry entry = crl.getRevokedCertificate(new BigInteger(revocation.serial(), 16));
      assertThat(entry).as(revocation.serial()).isNotNull();
      assertThat(entry.getRevocationDate().toInstant()).as(revocation.serial())
          .isEqualTo(revocation.revokedAt().truncatedTo(ChronoUnit.SECONDS));
    }
    assertThat(crl.getRevokedCertificate(new BigInteger("2", 16))).isNull();
  }

  @Test
  void configuredValiditySetsNextUpdate() throws Exception {
    CrlSigner signer = new CrlSigner(issuer, Duration.ofHours(6));

    X509CRL crl = parse(signer.sign(List.of(), NOW));

    assertThat(signer.validity()).isEqualTo(Duration.ofHours(6));
    assertThat(crl.getNextUpdate().toInstant()).isEqualTo(NOW_SECONDS.plus(Duration.ofHours(6)));
  }

  @Test
  void validityShorterThanOneSecondIsRejected() {
    assertThatThrownBy(() -> new CrlSigner(issuer, Duration.ofMillis(999)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("crl: validity PT0.999S is shorter than the minimum of 1 second");
  }

  @Test
  void nonHexadecimalSerialIsRejected() {
    CrlSigner signer = new CrlSigner(issuer);

    assertThatThrownBy(() -> signer.sign(List.of(revocation("serial-12", 1, NOW)), NOW))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("crl: revoked serial serial-12 is not hexadecimal");
  }

  @Test
  void crlNumberIsGenerationTimeInMilliseconds() throws Exception {
    CrlSigner signer = new CrlSigner(issuer);
    Instant later = NOW.plusMillis(1500);

    BigInteger first = crlNumber(signer.sign(List.of(), NOW));
    BigInteger second = crlNumber(signer.sign(List.of(), later));

    assertThat(first).isEqualTo(BigInteger.valueOf(NOW.toEpochMilli()));
    assertThat(second).isEqualTo(BigInteger.valueOf(later.toEpochMilli()));
  }

  @Test
  void crlNumberIncreasesWhenClockDoesNot() throws Exception {
    CrlSigner signer = new CrlSigner(issuer);

    BigInteger first = crlNumber(signer.sign(List.of(), NOW));
    BigInteger sameMillisecond = crlNumber(signer.sign(List.of(), NOW));
    BigInteger clockStepsBack = crlNumber(signer.sign(List.of(), NOW.minusSeconds(60)));

    assertThat(sameMillisecond).isEqualTo(first.add(BigInteger.ONE));
    assertThat(clockStepsBack).isEqualTo(first.add(BigInteger.TWO));
  }

  @Test
  void crlNumberIncreasesAcrossSignerRestart() throws Exception {
    BigInteger beforeRestart = crlNumber(new CrlSigner(issuer).sign(List.of(), NOW));
    BigInteger afterRestart = crlNumber(new CrlSigner(issuer).sign(List.of(),
        NOW.plusMillis(1)));

    assertThat(afterRestart).isGreaterThan(beforeRestart);
  }

  @Test
  void concurrentSigningUsesDistinctNumbers() throws Exception {
    CrlSigner signer = new CrlSigner(issuer);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Future<BigInteger>> numbers = new ArrayList<>();
    try {
      for (int i = 0; i < 80; i++) {
        numbers.add(pool.submit(() -> crlNumber(signer.sign(List.of(), NOW))));
      }
      Set<BigInteger> distinct = Collections.synchronizedSet(new HashSet<>());
      for (Future<BigInteger> number : numbers) {
        distinct.add(number.get());
      }
      assertThat(distinct).hasSize(80);
      assertThat(Collections.max(distinct))
          .isEqualTo(BigInteger.valueOf(NOW.toEpochMilli() + 79));
    } finally {
      pool.shutdownNow();
    }
  }
}
