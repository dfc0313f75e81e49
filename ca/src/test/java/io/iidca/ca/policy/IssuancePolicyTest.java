package io.iidca.ca.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.error.PolicyDeniedException;
import io.iidca.ca.pki.CertificateRequest;
import io.iidca.ca.pki.CertificateTemplate;
import io.iidca.ca.pki.IidcaExtension;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Providers;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link IssuancePolicy} as a table of requests and the exact certificate template or denial
 * each gets. The identity is an AWS instance with private IP 10.0.0.5 in us-east-1, so the
 * names AWS vouches for are {@code ip-10-0-0-5.ec2.internal} and {@code 10.0.0.5}.
 */
class IssuancePolicyTest {

  static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
  static final String ACCOUNT = "123456789042";
  static final String INSTANCE = "i-0123456789abcdef0";
  static final String DNS = "ip-10-0-0-5.ec2.internal";
  static final String IP = "10.0.0.5";
  static final ProvisionerConfig OPEN = ProvisionerConfig.aws("open", List.of(ACCOUNT));
  static final ProvisionerConfig STRICT = new ProvisionerConfig("strict", "AWS",
      Lifetime.DEFAULT, true, false, null, List.of(ACCOUNT),
      ProvisionerConfig.DEFAULT_AWS_FORMS, List.of());
  static final ProvisionerConfig SHORT = new ProvisionerConfig("short", "AWS",
      new Lifetime(Duration.ofHours(1), Duration.ofMinutes(10), Duration.ofHours(2)), false,
      false, null, List.of(ACCOUNT), ProvisionerConfig.DEFAULT_AWS_FORMS, List.of());
  static final PublicKey EC_KEY = KeySpec.EC_P256.generate().getPublic();

  static VerifiedIdentityBuilder identity(String subject) {
    return new VerifiedIdentityBuilder(subject);
  }

  /** Builds the identity that verify-aws would hand to policy. */
  static final class VerifiedIdentityBuilder {
    final String subject;
    List<String> tokenSans;
    List<String> vouched = List.of(DNS, IP);

    VerifiedIdentityBuilder(String subject) {
      this.subject = subject;
    }

    VerifiedIdentityBuilder tokenSans(List<String> value) {
      tokenSans = value;
      return this;
    }

    VerifiedIdentityBuilder vouched(List<String> value) {
      vouched = value;
      return this;
    }

    io.iidca.ca.provisioner.VerifiedIdentity build(ProvisionerConfig provisioner) {
      return new io.iidca.ca.provisioner.VerifiedIdentity("AWS", provisioner.name(), INSTANCE,
          ACCOUNT, "us-east-1", NOW.minus(Duration.ofHours(1)), vouched, subject, tokenSans,
          "token-1", NOW.plus(Duration.ofMinutes(5)));
    }
  }

  static CertificateRequest csr(String commonName, List<String> sans) {
    return new CertificateRequest(commonName, sans, EC_KEY, false);
  }

  static CertificateTemplate apply(ProvisionerConfig provisioner,
      VerifiedIdentityBuilder identity, CertificateRequest csr) {
    return IssuancePolicy.apply(provisioner, identity.build(provisioner), csr, null, null, NOW);
  }

  static PolicyDeniedException denial(Runnable call) {
    return catchThrowableOfType(PolicyDeniedException.class, call::run);
  }

  // ---- names ----

  /** Returns rows of the case, provisioner, identity, CSR SANs, and the exact SANs. */
  static Stream<Arguments> allowedNames() {
    return Stream.of(
        names("subject only", OPEN, identity("app.internal"), List.of(),
            List.of("app.internal", DNS, IP)),
        names("custom SAN", OPEN, identity("app.internal"), List.of("api.internal"),
            List.of("app.internal", "api.internal", DNS, IP)),
        names("subject repeated in SANs", OPEN, identity("app.internal"),
            List.of("app.internal"), List.of("app.internal", DNS, IP)),
        names("upper-case DNS name is lower-cased", OPEN, identity("app.internal"),
            List.of("API.Internal"), List.of("app.internal", "api.internal", DNS, IP)),
        names("vouched name requested in upper case", OPEN, identity("app.internal"),
            List.of(DNS.toUpperCase()), List.of("app.internal", DNS, IP)),
        names("IPv6 forms collapse to one", OPEN, identity("app.internal"),
            List.of("::1", "0:0:0:0:0:0:0:1"), List.of("app.internal", "0:0:0:0:0:0:0:1", DNS,
                IP)),
        names("token sans allow a SAN", OPEN, identity("app.internal")
            .tokenSans(List.of("api.internal")), List.of("api.internal"),
            List.of("app.internal", "api.internal", DNS, IP)),
        names("token sans compare IPv6 by value", OPEN, identity("app.internal")
            .tokenSans(List.of("::1")), List.of("0:0:0:0:0:0:0:1"),
            List.of("app.internal", "0:0:0:0:0:0:0:1", DNS, IP)),
        names("token sans compare case-insensitively", OPEN, identity("app.internal")
            .tokenSans(List.of("API.internal")), List.of("api.INTERNAL"),
            List.of("app.internal", "api.internal", DNS, IP)),
        names("strict: vouched DNS subject", STRICT, identity(DNS), List.of(IP),
            List.of(DNS, IP)),
        names("strict: vouched IP subject", STRICT, identity(IP), List.of(), List.of(IP, DNS)),
        names("strict: IPv4 with leading zeros is the vouched address", STRICT, identity(DNS),
            List.of("010.000.000.005"), List.of(DNS, IP)),
        names("strict: IPv4-mapped IPv6 is the vouched address", STRICT, identity(DNS),
            List.of("::ffff:10.0.0.5"), List.of(DNS, IP)),
        names("strict: IPv6 vouched name in another form", STRICT,
            identity("FD00:0:0:0:0:0:0:5").vouched(List.of("fd00::5")), List.of(),
            List.of("fd00:0:0:0:0:0:0:5")),
        names("label of 63 characters", OPEN, identity("app.internal"),
            List.of("a".repeat(63) + ".internal"),
            List.of("app.internal", "a".repeat(63) + ".internal", DNS, IP)),
        names("name of 253 characters", OPEN, identity("app.internal"), List.of(name(253)),
            List.of("app.internal", name(253), DNS, IP)),
        names("email address", OPEN, identity("app.internal"), List.of("ops@example.com"),
            List.of("app.internal", "ops@example.com", DNS, IP)),
        names("URI", OPEN, identity("app.internal"), List.of("spiffe://example.org/app"),
            List.of("app.internal", "spiffe://example.org/app", DNS, IP)),
        names("email with a quoted local part holding a comma", OPEN, identity("app.internal"),
            List.of("\"ops,dev\"@example.com"),
            List.of("app.internal", "\"ops,dev\"@example.com", DNS, IP)),
        names("email of 254 characters", OPEN, identity("app.internal"),
            List.of("a".repeat(64) + "@" + name(189)),
            List.of("app.internal", "a".repeat(64) + "@" + name(189), DNS, IP)),
        names("subject of 64 characters", OPEN, identity("a".repeat(55) + ".internal"),
            List.of(), List.of("a".repeat(55) + ".internal", DNS, IP)),
        names("numeric label before a letter label", OPEN, identity("app.internal"),
            List.of("10.0.0.x1"), List.of("app.internal", "10.0.0.x1", DNS, IP)));
  }

  static Arguments names(String name, ProvisionerConfig provisioner,
      VerifiedIdentityBuilder identity, List<String> csrSans, List<String> expected) {
    return Arguments.of(name, provisioner, identity, csrSans, expected);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("allowedNames")
  void namesAllowedGiveExactSans(String name, ProvisionerConfig provisioner,
      VerifiedIdentityBuilder identity, List<String> csrSans, List<String> expected) {
    CertificateTemplate template = apply(provisioner, identity,
        csr(identity.subject, csrSans));

    assertThat(template.sans()).containsExactlyElementsOf(expected);
    assertThat(template.commonName()).isEqualTo(identity.subject);
  }

  /** Returns rows of the case, provisioner, identity, CSR SANs, and the expected reason. */
  static Stream<Arguments> deniedNames() {
    return Stream.of(
        denied("SAN outside token sans", OPEN, identity("app.internal")
            .tokenSans(List.of("api.internal")), List.of("other.internal"),
            "name other.internal is in the CSR but not in the token's sans"),
        denied("empty token sans allow only the subject", OPEN, identity("app.internal")
            .tokenSans(List.of()), List.of("api.internal"),
            "name api.internal is in the CSR but not in the token's sans [app.internal]"),
        denied("strict: custom subject", STRICT, identity("app.internal"), List.of(),
            "name app.internal is not allowed: provisioner strict issues only the names the"
                + " cloud vouches for, [" + DNS + ", " + IP + "]"),
        denied("strict: custom SAN beside vouched subject", STRICT, identity(DNS),
            List.of("app.internal"), "name app.internal is not allowed"),
        denied("strict: another IP", STRICT, identity(DNS), List.of("10.0.0.6"),
            "name 10.0.0.6 is not allowed"),
        denied("strict: email", STRICT, identity(DNS), List.of("ops@example.com"),
            "name ops@example.com is not allowed"),
        denied("wildcard SAN", OPEN, identity("app.internal"), List.of("*.internal"),
            "wildcard name *.internal is not issued to instances"),
        denied("wildcard subject", OPEN, identity("*.internal"), List.of(),
            "wildcard name *.internal is not issued to instances"),
        denied("bare star", OPEN, identity("app.internal"), List.of("*"),
            "name '*' is not a valid DNS name"),
        denied("inner wildcard", OPEN, identity("app.internal"), List.of("a.*.internal"),
            "name 'a.*.internal' is not a valid DNS name"),
        denied("empty SAN", OPEN, identity("app.internal"), List.of(""),
            "name '' is not a valid DNS name"),
        denied("empty subject", OPEN, identity(""), List.of(), "name '' is not a valid DNS name"),
        denied("leading hyphen", OPEN, identity("app.internal"), List.of("-app.internal"),
            "name '-app.internal' is not a valid DNS name"),
        denied("trailing hyphen", OPEN, identity("app.internal"), List.of("app-.internal"),
            "name 'app-.internal' is not a valid DNS name"),
        denied("underscore", OPEN, identity("app.internal"), List.of("my_app.internal"),
            "name 'my_app.internal' is not a valid DNS name"),
        denied("empty label", OPEN, identity("app.internal"), List.of("app..internal"),
            "name 'app..internal' is not a valid DNS name"),
        denied("space", OPEN, identity("app.internal"), List.of("my app.internal"),
            "name 'my app.internal' is not a valid DNS name"),
        denied("label of 64 characters", OPEN, identity("app.internal"),
            List.of("a".repeat(64) + ".internal"), "is not a valid DNS name"),
        denied("name of 254 characters", OPEN, identity("app.internal"), List.of(name(254)),
            "is not a valid DNS name"),
        denied("all-numeric top-level label", OPEN,
            identity("app.internal"), List.of("10.0.0.256"), "is not a valid"),
        denied("email with a space", OPEN, identity("app.internal"),
            List.of("ops team@example.com"), "is not a valid"),
        denied("email with a NUL byte", OPEN, identity("app.internal"),
            List.of("ops@example.com\u0000.evil.example"), "is not a valid"),
        denied("email of 300 characters", OPEN, identity("app.internal"),
            List.of("a".repeat(288) + "@example.com"), "is not a valid"),
        denied("URI with a space", OPEN, identity("app.internal"),
            List.of("spiffe://example.org/a b"), "is not a valid"),
        denied("all-numeric single label", OPEN, identity("app.internal"), List.of("12345"),
            "name '12345' is not a valid DNS name: its last label is all digits"),
        denied("email without local part", OPEN, identity("app.internal"),
            List.of("@example.com"), "name '@example.com' is not a valid email address"),
        denied("email with a local part of 65 characters", OPEN, identity("app.internal"),
            List.of("a".repeat(65) + "@example.com"), "is not a valid email address"),
        denied("email whose domain is not a DNS name", OPEN, identity("app.internal"),
            List.of("ops@exa_mple.com"), "name 'ops@exa_mple.com' is not a valid email"
                + " address: the part after @ must be a DNS name"),
        denied("email whose domain is an IPv4 address", OPEN, identity("app.internal"),
            List.of("ops@10.0.0.5"), "is not a valid email address"),
        denied("email with a non-ASCII letter", OPEN, identity("app.internal"),
            List.of("\u00f6ps@example.com"), "is not a valid email address"),
        denied("URI without a scheme", OPEN, identity("app.internal"),
            List.of("://example.org/app"), "name '://example.org/app' is not a valid URI"),
        denied("URI with a control character", OPEN, identity("app.internal"),
            List.of("spiffe://example.org/a\tb"), "is not a valid URI"),
        denied("URI of 2049 characters", OPEN, identity("app.internal"),
            List.of("spiffe://example.org/" + "a".repeat(2028)), "is not a valid URI: it has"
                + " 2049 characters, more than 2048"),
        denied("subject of 65 characters", OPEN, identity("a".repeat(56) + ".internal"),
            List.of(), "subject of 65 characters exceeds the limit of 64 for a common name"),
        denied("101 names", OPEN, identity("app.internal"), manyNames(100, 10),
            "the certificate would carry 103 names"),
        denied("names of more than 8192 characters", OPEN, identity("app.internal"),
            manyNames(40, 250), "more than the limits of 100 names and 8192 characters"));
  }

  static Arguments denied(String name, ProvisionerConfig provisioner,
      VerifiedIdentityBuilder identity, List<String> csrSans, String reason) {
    return Arguments.of(name, provisioner, identity, csrSans, reason);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("deniedNames")
  void namesDeniedWithReason(String name, ProvisionerConfig provisioner,
      VerifiedIdentityBuilder identity, List<String> csrSans, String reason) {
    PolicyDeniedException denied = denial(() -> apply(provisioner, identity,
        csr(identity.subject, csrSans)));

    assertThat(denied).as("denial of " + name).isNotNull();
    assertThat(denied.stage()).isEqualTo("policy");
    assertThat(denied.reason()).contains(reason);
  }

  /** Returns {@code count} distinct DNS names of {@code length} characters each. */
  static List<String> manyNames(int count, int length) {
    List<String> names = new java.util.ArrayList<>();
    for (int i = 0; i < count; i++) {
      String prefix = "n" + i + ".";
      names.add(prefix + name(length - prefix.length()));
    }
    return names;
  }

  /** Returns a valid DNS name of exactly {@code length} characters. */
  static String name(int length) {
    StringBuilder name = new StringBuilder();
    while (name.length() < length) {
      int room = length - name.length() - (name.length() == 0 ? 0 : 1);
      if (name.length() > 0) {
        name.append('.');
      }
      name.append("b".repeat(Math.min(63, room)));
    }
    return name.toString();
  }

  // ---- subject and extensions ----

  @Test
  void commonNameMustEqualSubject() {
    PolicyDeniedException denied = denial(() -> apply(OPEN, identity("app.internal"),
        csr("other.internal", List.of())));

    assertThat(denied.reason()).isEqualTo("CSR common name 'other.internal' does not match the"
        + " token subject 'app.internal'");
  }

  @Test
  void commonNameComparesExactly() {
    PolicyDeniedException denied = denial(() -> apply(OPEN, identity("app.internal"),
        csr("App.internal", List.of())));

    assertThat(denied.reason()).isEqualTo("CSR common name 'App.internal' does not match the"
        + " token subject 'app.internal'");
  }

  @Test
  void missingCommonNameIsDenied() {
    PolicyDeniedException denied = denial(() -> apply(OPEN, identity("app.internal"),
        csr(null, List.of("app.internal"))));

    assertThat(denied.reason()).isEqualTo("CSR common name (none) does not match the token"
        + " subject 'app.internal'");
  }

  @Test
  void caTrueIsDenied() {
    CertificateRequest ca = new CertificateRequest("app.internal", List.of(), EC_KEY, true);

    PolicyDeniedException denied = denial(() -> apply(OPEN, identity("app.internal"), ca));

    assertThat(denied.reason()).isEqualTo("the CSR requests basicConstraints CA:true; iidca"
        + " issues only end-entity certificates");
  }

  @Test
  void templateCarriesIdentityAndKey() {
    CertificateTemplate template = apply(OPEN, identity("app.internal"),
        csr("app.internal", List.of()));

    assertThat(template.publicKey()).isSameAs(EC_KEY);
    assertThat(template.identity()).isEqualTo(new IidcaExtension("AWS", "open", INSTANCE,
        ACCOUNT));
  }

  // ---- keys ----

  static Stream<Arguments> keys() throws GeneralSecurityException {
    return Stream.of(
        Arguments.of("RSA 1024", rsa(1024), "RSA key of 1024 bits is too small: use 2048 bits"
            + " or more"),
        Arguments.of("RSA 2048", rsa(2048), null),
        Arguments.of("RSA 3072", rsa(3072), null),
        Arguments.of("RSA modulus of 8192 bits", rsaModulus(8192), null),
        Arguments.of("RSA modulus of 8193 bits", rsaModulus(8193),
            "RSA key of 8193 bits is too large: use at most 8192 bits"),
        Arguments.of("RSA exponent 1", rsaExponent(BigInteger.ONE),
            "RSA public exponent 1 is not allowed"),
        Arguments.of("RSA exponent 65536", rsaExponent(BigInteger.valueOf(65_536)),
            "RSA public exponent 65536 is not allowed"),
        Arguments.of("RSA exponent of 257 bits", rsaExponent(BigInteger.ONE.shiftLeft(256)
            .setBit(0)), "is not allowed: use an odd exponent from 3 to 2^256 - 1"),
        Arguments.of("RSA exponent 3", rsaExponent(BigInteger.valueOf(3)), null),
        Arguments.of("EC P-256", KeySpec.of("EC", "P-256", null).generate().getPublic(), null),
        Arguments.of("EC P-384", KeySpec.of("EC", "P-384", null).generate().getPublic(), null),
        Arguments.of("EC P-521", KeySpec.of("EC", "P-521", null).generate().getPublic(), null),
        Arguments.of("Ed25519", KeySpec.of("OKP", null, null).generate().getPublic(), null),
        Arguments.of("EC secp256k1", ec("secp256k1"), "use P-256, P-384 or P-521"),
        Arguments.of("EC brainpoolP256r1", ec("brainpoolP256r1"), "use P-256, P-384 or P-521"),
        Arguments.of("EC brainpoolP384r1", ec("brainpoolP384r1"), "use P-256, P-384 or P-521"),
        Arguments.of("EC secp224r1", ec("secp224r1"), "EC key of 224 bits is not allowed"),
        Arguments.of("EC P-256 with explicit parameters", explicitP256(),
            "EC key with explicit curve parameters is not allowed: RFC 5480 requires a named"
                + " curve; use P-256, P-384 or P-521"),
        Arguments.of("EC brainpoolP256r1 named", ec("brainpoolP256r1"),
            "EC key of 256 bits is not allowed: use P-256, P-384 or P-521 (the key's curve is"
                + " brainpoolP256r1)"),
        Arguments.of("DSA 2048", generate("DSA", 2048), "key type DSA is not allowed"),
        Arguments.of("Ed448", generate("Ed448", 0), "is not allowed: use EC, RSA or Ed25519"),
        Arguments.of("X25519", generate("X25519", 0), "is not allowed: use EC, RSA or Ed25519"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("keys")
  void keyTypesAndSizes(String name, PublicKey key, String denialReason) {
    CertificateRequest request = new CertificateRequest("app.internal", List.of(), key, false);

    if (denialReason == null) {
      assertThat(apply(OPEN, identity("app.internal"), request).publicKey()).isSameAs(key);
    } else {
      PolicyDeniedException denied = denial(() -> apply(OPEN, identity("app.internal"),
          request));
      assertThat(denied).as("denial of " + name).isNotNull();
      assertThat(denied.reason()).contains(denialReason);
    }
  }

  static PublicKey rsa(int bits) {
    return new KeySpec("RSA", null, bits).generate().getPublic();
  }

  /**
   * Returns an RSA public key with a modulus of exactly {@code bits} bits. Policy reads only the
   * size, so the modulus need not be a product of two primes, and no slow key generation runs.
   */
  static PublicKey rsaModulus(int bits) throws GeneralSecurityException {
    BigInteger modulus = BigInteger.ONE.shiftLeft(bits - 1).setBit(0);
    return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(modulus,
        BigInteger.valueOf(65_537)));
  }

  /** Returns a 2048-bit RSA public key with the public exponent {@code exponent}. */
  static PublicKey rsaExponent(BigInteger exponent) throws GeneralSecurityException {
    BigInteger modulus = ((RSAPublicKey) rsa(2048)).getModulus();
    return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(modulus,
        exponent));
  }

  /**
   * Returns a P-256 key whose SubjectPublicKeyInfo spells out the curve parameters instead of
   * naming the curve: Bouncy Castle encodes a key built from a plain ECParameterSpec that way.
   */
  static PublicKey explicitP256() throws GeneralSecurityException {
    ECPublicKey named = (ECPublicKey) KeySpec.EC_P256.generate().getPublic();
    ECParameterSpec parameters = named.getParams();
    ECParameterSpec explicit = new ECParameterSpec(parameters.getCurve(),
        parameters.getGenerator(), parameters.getOrder(), parameters.getCofactor());
    return KeyFactory.getInstance("EC", Providers.bouncyCastle())
        .generatePublic(new ECPublicKeySpec(named.getW(), explicit));
  }

  static PublicKey ec(String curve) throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", Providers.bouncyCastle());
    generator.initialize(new ECGenParameterSpec(curve));
    return generator.generateKeyPair().getPublic();
  }

  static PublicKey generate(String algorithm, int size) throws GeneralSecurityException {
    KeyPairGenerator generator = algorithm.equals("DSA")
        ? KeyPairGenerator.getInstance(algorithm)
        : KeyPairGenerator.getInstance(algorithm, Providers.bouncyCastle());
    if (size > 0) {
      generator.initialize(size);
    }
    return generator.generateKeyPair().getPublic();
  }

  // ---- validity ----

  /** Returns rows of the case, provisioner, requested notBefore and notAfter, the result. */
  static Stream<Arguments> allowedValidity() {
    return Stream.of(
        validity("defaults", OPEN, null, null, NOW.minusSeconds(60), hours(24)),
        validity("notAfter in 1h", OPEN, null, hours(1), NOW.minusSeconds(60), hours(1)),
        validity("notAfter at max", OPEN, null, hours(24), NOW.minusSeconds(60), hours(24)),
        validity("notAfter at min", OPEN, null, NOW.plusSeconds(300), NOW.minusSeconds(60),
            NOW.plusSeconds(300)),
        validity("notBefore 30s ago", OPEN, NOW.minusSeconds(30), null, NOW.minusSeconds(30),
            NOW.minusSeconds(30).plus(Duration.ofHours(24))),
        validity("notBefore in 1h", OPEN, hours(1), null, hours(1), hours(25)),
        validity("provisioner default 1h", SHORT, null, null, NOW.minusSeconds(60), hours(1)),
        validity("provisioner max 2h", SHORT, null, hours(2), NOW.minusSeconds(60), hours(2)));
  }

  static Arguments validity(String name, ProvisionerConfig provisioner, Instant notBefore,
      Instant notAfter, Instant expectedNotBefore, Instant expectedNotAfter) {
    return Arguments.of(name, provisioner, notBefore, notAfter, expectedNotBefore,
        expectedNotAfter);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("allowedValidity")
  void validityAllowedIsExact(String name, ProvisionerConfig provisioner, Instant notBefore,
      Instant notAfter, Instant expectedNotBefore, Instant expectedNotAfter) {
    CertificateTemplate template = IssuancePolicy.apply(provisioner,
        identity("app.internal").build(provisioner), csr("app.internal", List.of()), notBefore,
        notAfter, NOW);

    assertThat(template.notBefore()).isEqualTo(expectedNotBefore);
    assertThat(template.notAfter()).isEqualTo(expectedNotAfter);
  }

  static Stream<Arguments> deniedValidity() {
    return Stream.of(
        Arguments.of("notAfter beyond max", OPEN, null, hours(24).plusSeconds(1),
            "requested lifetime 24h1s is outside the allowed 5m to 24h"),
        Arguments.of("notAfter below min", OPEN, null, NOW.plusSeconds(299),
            "requested lifetime 4m59s is outside the allowed 5m to 24h"),
        Arguments.of("notAfter in the past", OPEN, null, NOW.minusSeconds(3600),
            "notAfter 2029-12-31T23:00:00Z lies in the past, before the request at"
                + " 2030-01-01T00:00:00Z: request a later end, or none for the default"
                + " lifetime"),
        Arguments.of("notAfter at the request time", OPEN, null, NOW,
            "notAfter 2030-01-01T00:00:00Z lies in the past"),
        Arguments.of("notAfter before notBefore", OPEN, hours(2), hours(1),
            "notAfter 2030-01-01T01:00:00Z is not after notBefore 2030-01-01T02:00:00Z:"
                + " request an end after the start"),
        Arguments.of("notBefore 2m in the past", OPEN, NOW.minusSeconds(120), null,
            "notBefore 2029-12-31T23:58:00Z lies in the past"),
        Arguments.of("notBefore beyond max ahead", OPEN, hours(24).plusSeconds(1), null,
            "notBefore 2030-01-02T00:00:01Z lies more than 24h after the request at"
                + " 2030-01-01T00:00:00Z: request an earlier start, or none"),
        Arguments.of("notBefore at the end of time", OPEN, Instant.MAX, Instant.MAX,
            "lies more than 24h after the request"),
        Arguments.of("notAfter at the end of time", OPEN, null, Instant.MAX,
            "is outside the allowed 5m to 24h"),
        Arguments.of("provisioner max 2h exceeded", SHORT, null, hours(3),
            "requested lifetime 3h is outside the allowed 10m to 2h"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("deniedValidity")
  void validityDeniedWithReason(String name, ProvisionerConfig provisioner, Instant notBefore,
      Instant notAfter, String reason) {
    PolicyDeniedException denied = denial(() -> IssuancePolicy.apply(provisioner,
        identity("app.internal").build(provisioner), csr("app.internal", List.of()), notBefore,
        notAfter, NOW));

    assertThat(denied).as("denial of " + name).isNotNull();
    assertThat(denied.reason()).contains(reason);
  }

  static Instant hours(long hours) {
    return NOW.plus(Duration.ofHours(hours));
  }

  // ---- the intermediate's validity ----

  static final Instant ISSUER_END = hours(12);

  @Test
  void notAfterBeyondIssuerIsClippedToIt() {
    CertificateTemplate template = IssuancePolicy.apply(OPEN,
        identity("app.internal").build(OPEN), csr("app.internal", List.of()), null, null, NOW,
        ISSUER_END);

    assertThat(template.notBefore()).isEqualTo(NOW.minusSeconds(60));
    assertThat(template.notAfter()).isEqualTo(ISSUER_END);
  }

  @Test
  void notAfterWithinIssuerIsKept() {
    CertificateTemplate template = IssuancePolicy.apply(OPEN,
        identity("app.internal").build(OPEN), csr("app.internal", List.of()), null, hours(1),
        NOW, ISSUER_END);

    assertThat(template.notAfter()).isEqualTo(hours(1));
  }

  @Test
  void clippedLifetimeBelowMinimumIsDenied() {
    Instant issuerEnd = NOW.plusSeconds(299);

    PolicyDeniedException denied = denial(() -> IssuancePolicy.apply(OPEN,
        identity("app.internal").build(OPEN), csr("app.internal", List.of()), null, null, NOW,
        issuerEnd));

    assertThat(denied).isNotNull();
    assertThat(denied.reason()).isEqualTo("the intermediate CA certificate expires at "
        + issuerEnd + ", which leaves this certificate 4m59s, less than the minimum lifetime"
        + " 5m of provisioner open: renew the intermediate CA certificate");
  }

  @Test
  void notBeforeAfterIssuerEndIsDenied() {
    PolicyDeniedException denied = denial(() -> IssuancePolicy.apply(OPEN,
        identity("app.internal").build(OPEN), csr("app.internal", List.of()), hours(13), null,
        NOW, ISSUER_END));

    assertThat(denied).isNotNull();
    assertThat(denied.reason()).startsWith("the intermediate CA certificate expires at "
        + ISSUER_END + ", which leaves this certificate -1h,");
  }
}
