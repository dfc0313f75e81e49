package io.iidca.ca.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import org.bouncycastle.asn1.ASN1GeneralizedTime;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1UTCTime;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x509.Time;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Issuer}: each leaf contains exactly the documented extensions (RFC 5280, 4.2.1), a
 * positive random serial of at least 64 bits, and a validity inside the intermediate's.
 */
class IssuerTest {

  static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);
  static final IidcaExtension IDENTITY = new IidcaExtension("AWS", "aws", "i-0123456789abcdef0",
      "123456789042");
  static KeyPair rootKeys;
  static X509Certificate root;
  static X509Certificate intermediate;
  static Issuer issuer;

  @BeforeAll
  static void createCa() {
    rootKeys = KeySpec.EC_P256.generate();
    root = CaCertificates.root("Test", rootKeys, NOW);
    KeyPair intermediateKeys = KeySpec.EC_P256.generate();
    intermediate = CaCertificates.intermediate("Test", intermediateKeys.getPublic(), root,
        rootKeys.getPrivate(), NOW);
    issuer = new Issuer(intermediateKeys.getPrivate(), intermediate, root);
  }

  static CertificateTemplate template(PublicKey key, List<String> sans, Instant notBefore,
      Instant notAfter) {
    return new CertificateTemplate("app.internal", sans, key, notBefore, notAfter, IDENTITY);
  }

  static Stream<Arguments> keyUsages() {
    return Stream.of(
        Arguments.of("EC P-256", KeySpec.EC_P256.generate().getPublic(), false),
        Arguments.of("RSA 2048", KeySpec.of("RSA", null, 2048).generate().getPublic(), true),
        Arguments.of("Ed25519", KeySpec.of("OKP", null, null).generate().getPublic(), false));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("keyUsages")
  void leafHoldsExactlyDocumentedExtensions(String name, PublicKey key,
      boolean keyEncipherment) throws Exception {
    X509Certificate leaf = issuer.issue(template(key, List.of("app.internal", "10.0.0.5",
        "ops@example.com", "spiffe://example.org/app"), NOW, NOW.plus(Duration.ofHours(1))));

    leaf.verify(intermediate.getPublicKey());
    assertThat(leaf.getVersion()).isEqualTo(3);
    assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=app.internal");
    assertThat(leaf.getIssuerX500Principal()).isEqualTo(intermediate.getSubjectX500Principal());
    assertThat(leaf.getPublicKey().getEncoded()).isEqualTo(key.getEncoded());
    assertThat(leaf.getCriticalExtensionOIDs()).containsExactlyInAnyOrder(
        Extension.basicConstraints.getId(), Extension.keyUsage.getId());
    assertThat(leaf.getNonCriticalExtensionOIDs()).containsExactlyInAnyOrder(
        Extension.extendedKeyUsage.getId(), Extension.subjectKeyIdentifier.getId(),
        Extension.authorityKeyIdentifier.getId(), Extension.subjectAlternativeName.getId(),
        IidcaExtension.OID.getId());
    assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
    boolean[] usage = leaf.getKeyUsage();
    assertThat(usage[0]).as("digitalSignature").isTrue();
    assertThat(usage[2]).as("keyEncipherment").isEqualTo(keyEncipherment);
    for (int bit : new int[] {1, 3, 4, 5, 6, 7, 8}) {
      assertThat(usage.length > bit && usage[bit]).as("keyUsage bit " + bit).isFalse();
    }
    assertThat(leaf.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1",
        "1.3.6.1.5.5.7.3.2");
    assertThat(leaf.getSubjectAlternativeNames()).containsExactly(
        List.of(2, "app.internal"), List.of(7, "10.0.0.5"), List.of(1, "ops@example.com"),
        List.of(6, "spiffe://example.org/app"));
    assertThat(IidcaExtension.from(leaf)).contains(IDENTITY);
  }

  /** RFC 5280, 4.2.1.1 and 4.2.1.2: AKI is the issuer's SKI; SKI is method 1 (SHA-1). */
  @Test
  void keyIdentifiersFollowRfc5280() throws Exception {
    PublicKey key = KeySpec.EC_P256.generate().getPublic();
    X509Certificate leaf = issuer.issue(template(key, List.of(), NOW, NOW.plusSeconds(600)));

    byte[] ski = octets(leaf, Extension.subjectKeyIdentifier);
    byte[] bits = SubjectPublicKeyInfo.getInstance(key.getEncoded()).getPublicKeyData()
        .getBytes();
    byte[] sha1 = java.security.MessageDigest.getInstance("SHA-1").digest(bits);
    assertThat(org.bouncycastle.asn1.x509.SubjectKeyIdentifier.getInstance(ski)
        .getKeyIdentifier()).isEqualTo(sha1);
    byte[] aki = octets(leaf, Extension.authorityKeyIdentifier);
    byte[] issuerSki = octets(intermediate, Extension.subjectKeyIdentifier);
    assertThat(org.bouncycastle.asn1.x509.AuthorityKeyIdentifier.getInstance(aki)
        .getKeyIdentifierOctets()).isEqualTo(
            org.bouncycastle.asn1.x509.SubjectKeyIdentifier.getInstance(issuerSki)
                .getKeyIdentifier());
  }

  @Test
  void leafWithoutSansHasNoSanExtension() throws Exception {
    X509Certificate leaf = issuer.issue(template(KeySpec.EC_P256.generate().getPublic(),
        List.of(), NOW, NOW.plusSeconds(600)));

    assertThat(leaf.getSubjectAlternativeNames()).isNull();
  }

  /** The serial starts with the time of signing, so the store's serial index grows at its end. */
  @Test
  void serialStartsWithTheTimeOfSigning() {
    PublicKey key = KeySpec.EC_P256.generate().getPublic();
    long before = System.currentTimeMillis();
    BigInteger first = issuer.issue(template(key, List.of(), NOW, NOW.plusSeconds(600)))
        .getSerialNumber();
    BigInteger second = issuer.issue(template(key, List.of(), NOW, NOW.plusSeconds(600)))
        .getSerialNumber();
    long after = System.currentTimeMillis();

    long signedAt = first.shiftRight(CaCertificates.RANDOM_SERIAL_BITS).clearBit(42)
        .longValueExact();
    assertThat(signedAt).isBetween(before, after);
    assertThat(second.shiftRight(CaCertificates.RANDOM_SERIAL_BITS))
        .isGreaterThanOrEqualTo(first.shiftRight(CaCertificates.RANDOM_SERIAL_BITS));
  }

  /** RFC 5280, 4.1.2.2 allows a positive serial of at most 20 octets, and 64 bits are random. */
  @Test
  void serialsArePositiveLargeAndDistinct() {
    PublicKey key = KeySpec.EC_P256.generate().getPublic();
    Set<BigInteger> serials = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      BigInteger serial = issuer.issue(template(key, List.of(), NOW, NOW.plusSeconds(600)))
          .getSerialNumber();
      assertThat(serial.signum()).isEqualTo(1);
      assertThat(serial.bitLength()).isBetween(64, 159);
      serials.add(serial);
    }
    assertThat(serials).hasSize(200);
  }

  @Test
  void validityIsCopiedFromTemplate() {
    Instant notBefore = NOW.minusSeconds(60);
    Instant notAfter = NOW.plus(Duration.ofHours(24));

    X509Certificate leaf = issuer.issue(template(KeySpec.EC_P256.generate().getPublic(),
        List.of(), notBefore, notAfter));

    assertThat(leaf.getNotBefore().toInstant()).isEqualTo(notBefore);
    assertThat(leaf.getNotAfter().toInstant()).isEqualTo(notAfter);
  }

  @Test
  void notAfterIsClippedToIssuer() {
    Instant issuerEnd = intermediate.getNotAfter().toInstant();

    X509Certificate leaf = issuer.issue(template(KeySpec.EC_P256.generate().getPublic(),
        List.of(), NOW, issuerEnd.plus(Duration.ofDays(1))));

    assertThat(leaf.getNotAfter().toInstant()).isEqualTo(issuerEnd);
  }

  /**
   * A template that starts after the intermediate expires cannot become a valid leaf: clipping
   * notAfter alone would produce notBefore after notAfter. Issuing must fail or keep the order.
   */
  @Test
  void leafNeverStartsAfterItEnds() {
    Instant issuerEnd = intermediate.getNotAfter().toInstant();
    CertificateTemplate late = template(KeySpec.EC_P256.generate().getPublic(), List.of(),
        issuerEnd.plus(Duration.ofDays(1)), issuerEnd.plus(Duration.ofDays(2)));

    X509Certificate[] issued = new X509Certificate[1];
    Throwable error = catchThrowable(() -> issued[0] = issuer.issue(late));

    if (error == null) {
      assertThat(issued[0].getNotBefore()).isBeforeOrEqualTo(issued[0].getNotAfter());
    } else {
      assertThat(error).isInstanceOf(RuntimeException.class);
    }
  }

  @Test
  void emptyValidityWindowIsRefused() {
    Instant issuerEnd = intermediate.getNotAfter().toInstant();
    CertificateTemplate late = template(KeySpec.EC_P256.generate().getPublic(), List.of(),
        issuerEnd, issuerEnd.plus(Duration.ofHours(1)));

    Throwable error = catchThrowable(() -> issuer.issue(late));

    assertThat(error).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cannot sign certificate for app.internal: notBefore " + issuerEnd
            + " is not before notAfter " + issuerEnd + ", which the intermediate's notAfter "
            + issuerEnd + " bounds");
  }

  static byte[] octets(X509Certificate certificate, org.bouncycastle.asn1.ASN1ObjectIdentifier
      oid) {
    return org.bouncycastle.asn1.ASN1OctetString.getInstance(
        certificate.getExtensionValue(oid.getId())).getOctets();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "2026-12-04T20:15:30.999Z, UTCTime, 261204201530Z",
      "1950-01-01T00:00:00Z, UTCTime, 500101000000Z",
      "2049-12-31T23:59:59.500Z, UTCTime, 491231235959Z",
      "2050-01-01T00:00:00Z, GeneralizedTime, 20500101000000Z",
      "1949-12-31T23:59:59Z, GeneralizedTime, 19491231235959Z",
      "9999-12-31T23:59:59Z, GeneralizedTime, 99991231235959Z"})
  void validityTimeFollowsRfc5280(String instant, String type, String text) throws Exception {
    Time time = Issuer.validityTime(Instant.parse(instant));
    Time bouncyCastle = new Time(Date.from(Instant.parse(instant)), Locale.ROOT);

    ASN1Primitive primitive = time.toASN1Primitive();
    assertThat(primitive).isInstanceOf(type.equals("UTCTime") ? ASN1UTCTime.class
        : ASN1GeneralizedTime.class);
    assertThat(new String(primitive.getEncoded(), StandardCharsets.US_ASCII).substring(2))
        .isEqualTo(text);
    assertThat(primitive.getEncoded()).isEqualTo(bouncyCastle.toASN1Primitive().getEncoded());
  }

  @Test
  void leafDatesAreWholeSecondsOfTemplate() {
    Instant notBefore = NOW.plusMillis(750);
    X509Certificate leaf = issuer.issue(template(KeySpec.EC_P256.generate().getPublic(),
        List.of(), notBefore, notBefore.plus(Duration.ofMinutes(5))));

    assertThat(leaf.getNotBefore().toInstant()).isEqualTo(NOW);
    assertThat(leaf.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofMinutes(5)));
  }

  /**
   * The sign path reads an issued certificate's fields without parsing it: each must equal
   * the field in the certificate itself, including fractions dropped and notAfter clipped.
   */
  @ParameterizedTest(name = "notBefore +{0} ms, notAfter {1}")
  @CsvSource({"0, within", "750, within", "999, clipped", "250, clipped"})
  void signedFieldsEqualTheParsedCertificate(long millis, String end) throws Exception {
    Instant notBefore = NOW.plusMillis(millis);
    Instant notAfter = end.equals("clipped")
        ? intermediate.getNotAfter().toInstant().plus(Duration.ofDays(1))
        : notBefore.plus(Duration.ofMinutes(5)).plusMillis(333);
    PublicKey key = KeySpec.EC_P256.generate().getPublic();

    IssuedCertificate signed = issuer.sign(template(key, List.of("app.internal"), notBefore,
        notAfter));
    X509Certificate parsed = signed.x509();

    parsed.verify(intermediate.getPublicKey());
    assertThat(signed.encoded()).isEqualTo(parsed.getEncoded());
    assertThat(signed.serialNumber()).isEqualTo(parsed.getSerialNumber());
    assertThat(signed.notBefore()).isEqualTo(parsed.getNotBefore().toInstant());
    assertThat(signed.notAfter()).isEqualTo(parsed.getNotAfter().toInstant());
    assertThat(signed.publicKey().getEncoded()).isEqualTo(parsed.getPublicKey().getEncoded());
    assertThat(signed.keyFingerprint()).isEqualTo(Fingerprints.of(parsed.getPublicKey()));
    assertThat(signed.pem()).isEqualTo(Pem.encode(parsed));
  }
}
