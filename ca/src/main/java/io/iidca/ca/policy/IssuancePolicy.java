package io.iidca.ca.policy;

import io.iidca.ca.config.Durations;
import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.error.PolicyDeniedException;
import io.iidca.ca.pki.CertificateRequest;
import io.iidca.ca.pki.CertificateTemplate;
import io.iidca.ca.pki.IidcaExtension;
import io.iidca.ca.pki.SubjectNames;
import io.iidca.ca.provisioner.VerifiedIdentity;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.PublicKey;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.security.interfaces.RSAPublicKey;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;

/**
 * Decides what certificate a verified identity gets, or denies the request (HTTP 403).
 *
 * <ul>
 *   <li>The CSR's common name must equal the token's subject, of at most 64 characters
 *       (ub-common-name, RFC 5280, appendix A.1). A CSR that asks for {@code CA:true} is
 *       denied; other CSR extensions are ignored.
 *   <li>Names: the subject plus the CSR's SANs are requested, each valid for its type (see
 *       {@link NameSyntax}). When the token lists {@code sans}, every requested name must be
 *       among them. With custom SANs disabled, every requested name must be one that the cloud
 *       vouches for, and the subject may also be the instance id (as in step-ca), which then is
 *       the common name only. The certificate holds the requested names and the vouched names,
 *       at most {@value #MAX_NAMES} names of {@value #MAX_NAME_CHARACTERS} characters in total.
 *       IP addresses compare by value.
 *   <li>Name policy: every name the certificate carries, the vouched names included, must pass
 *       the CA's {@link NamePolicy} and then the provisioner's. The subject is one of those
 *       names, except an instance id subject, which is the common name only and is not checked.
 *   <li>Keys: ECDSA on the NIST curves P-256, P-384 or P-521 (named by OID, not judged by
 *       size), RSA of 2048 to 8192 bits with an odd public exponent from 3 to 2^256 - 1, or
 *       Ed25519.
 *   <li>Validity: the provisioner's default unless the request names one; the lifetime must lie
 *       within the provisioner's min and max, and notBefore within max of the request. When
 *       the intermediate CA certificate ends first, notAfter is its notAfter, and the shorter
 *       lifetime must still reach the provisioner's min.
 * </ul>
 *
 * <p>Stateless and thread-safe.
 */
public final class IssuancePolicy {

  /** notBefore lies this far before the request, so clients with slow clocks can use it. */
  public static final Duration BACKDATE = Duration.ofMinutes(1);

  /** ub-common-name of RFC 5280, appendix A.1. */
  public static final int MAX_COMMON_NAME_LENGTH = 64;
  /** The largest RSA modulus accepted, in bits. */
  public static final int MAX_RSA_BITS = 8192;
  /** Maximum number of names in a certificate. */
  public static final int MAX_NAMES = 100;
  /**
   * Maximum total length of a certificate's names, counting one separator per name, because
   * the store keeps them in a column of 8192 characters.
   */
  public static final int MAX_NAME_CHARACTERS = 8192;

  private static final BigInteger MIN_RSA_EXPONENT = BigInteger.valueOf(3);
  private static final int MAX_RSA_EXPONENT_BITS = 256;
  private static final String STAGE = "policy";
  /** P-256, P-384 and P-521 of FIPS 186-4, D.1.2, by their OIDs in RFC 5480, 2.1.1.1. */
  private static final Set<ASN1ObjectIdentifier> NIST_CURVES = Set.of(
      SECObjectIdentifiers.secp256r1, SECObjectIdentifiers.secp384r1,
      SECObjectIdentifiers.secp521r1);

  private IssuancePolicy() {}

  /**
   * Applies the provisioner's policy for an issuer whose own validity does not bound the
   * certificate's.
   *
   * @param notBefore requested start, or null
   * @param notAfter requested end, or null
   * @param now the time the request was received, from which durations in it were resolved
   * @throws PolicyDeniedException naming the value that policy does not allow
   */
  public static CertificateTemplate apply(ProvisionerConfig provisioner,
      VerifiedIdentity identity, CertificateRequest csr, Instant notBefore, Instant notAfter,
      Instant now) {
    return apply(provisioner, identity, csr, notBefore, notAfter, now, null);
  }

  /**
   * Applies the provisioner's policy.
   *
   * @param notBefore requested start, or null
   * @param notAfter requested end, or null
   * @param now the time the request was received, from which durations in it were resolved
   * @param issuerNotAfter the intermediate CA certificate's notAfter, or null for no bound
   * @throws PolicyDeniedException naming the value that policy does not allow
   */
  public static CertificateTemplate apply(ProvisionerConfig provisioner,
      VerifiedIdentity identity, CertificateRequest csr, Instant notBefore, Instant notAfter,
      Instant now, Instant issuerNotAfter) {
    return apply(provisioner, identity, csr, notBefore, notAfter, now, issuerNotAfter,
        NamePolicy.NONE);
  }

  /**
   * Applies the CA's name policy and the provisioner's policy.
   *
   * @param notBefore requested start, or null
   * @param notAfter requested end, or null
   * @param now the time the request was received, from which durations in it were resolved
   * @param issuerNotAfter the intermediate CA certificate's notAfter, or null for no bound
   * @param caNamePolicy the CA-level name policy, which applies beside the provisioner's
   * @throws PolicyDeniedException naming the value that policy does not allow
   */
  public static CertificateTemplate apply(ProvisionerConfig provisioner,
      VerifiedIdentity identity, CertificateRequest csr, Instant notBefore, Instant notAfter,
      Instant now, Instant issuerNotAfter, NamePolicy caNamePolicy) {
    checkSubject(identity, csr);
    if (csr.requestsCa()) {
      throw deny("the CSR requests basicConstraints CA:true; iidca issues only end-entity"
          + " certificates");
    }
    checkKey(csr.publicKey());
    List<String> sans = names(provisioner, identity, csr);
    checkNamePolicies(caNamePolicy, provisioner.namePolicy(), sans);
    Instant[] validity = validity(provisioner, notBefore, notAfter, now, issuerNotAfter);
    return new CertificateTemplate(identity.subject(), sans, csr.publicKey(), validity[0],
        validity[1], new IidcaExtension(identity.provisionerType(), identity.provisioner(),
            identity.instanceId(), identity.account()));
  }

  private static void checkSubject(VerifiedIdentity identity, CertificateRequest csr) {
    int length = identity.subject().codePointCount(0, identity.subject().length());
    if (length > MAX_COMMON_NAME_LENGTH) {
      throw deny("subject of " + length + " characters exceeds the limit of "
          + MAX_COMMON_NAME_LENGTH + " for a common name (RFC 5280 ub-common-name): use a"
          + " shorter subject, and request longer names as sans");
    }
    if (csr.commonName() == null || !csr.commonName().equals(identity.subject())) {
      throw deny("CSR common name " + quote(csr.commonName())
          + " does not match the token subject " + quote(identity.subject()));
    }
  }

  /** Denies keys that policy does not allow: see the class comment. */
  public static void checkKey(PublicKey key) {
    switch (key.getAlgorithm()) {
      case "EC", "ECDSA" -> checkEcKey(key);
      case "RSA" -> {
        int bits = ((RSAKey) key).getModulus().bitLength();
        if (bits < 2048) {
          throw deny("RSA key of " + bits + " bits is too small: use 2048 bits or more");
        }
        if (bits > MAX_RSA_BITS) {
          throw deny("RSA key of " + bits + " bits is too large: use at most " + MAX_RSA_BITS
              + " bits");
        }
        checkRsaExponent(((RSAPublicKey) key).getPublicExponent());
      }
      case "Ed25519", "EdDSA" -> {
        // Some providers name Ed448 keys EdDSA too, so the key's OID decides.
        if (!EdECObjectIdentifiers.id_Ed25519.equals(algorithmOf(key).getAlgorithm())) {
          throw deny("key type " + algorithmOf(key).getAlgorithm() + " is not allowed: use EC,"
              + " RSA or Ed25519");
        }
      }
      default -> throw deny("key type " + key.getAlgorithm()
          + " is not allowed: use EC, RSA or Ed25519");
    }
  }

  /**
   * Allows an odd public exponent from 3 to 2^256 - 1: the CA/Browser Forum Baseline
   * Requirements, 6.1.6, require an odd exponent of at least 3 and recommend at most 2^256 - 1.
   * Anyone can sign for a key with the exponent 1, because its signature is the padded digest
   * itself, so a CSR for such a key passes its self-signature check and proves nothing.
   */
  private static void checkRsaExponent(BigInteger exponent) {
    if (!exponent.testBit(0) || exponent.compareTo(MIN_RSA_EXPONENT) < 0
        || exponent.bitLength() > MAX_RSA_EXPONENT_BITS) {
      throw deny("RSA public exponent " + exponent + " is not allowed: use an odd exponent"
          + " from 3 to 2^256 - 1, such as 65537");
    }
  }

  /**
   * Allows an EC key only on a NIST curve, named by its OID as RFC 5480, 2.1.1 requires:
   * keys with explicit curve parameters are denied even when the parameters are a NIST
   * curve's, because the certificate would repeat them.
   */
  private static void checkEcKey(PublicKey key) {
    ASN1Encodable parameters = algorithmOf(key).getParameters();
    if (!(parameters instanceof ASN1ObjectIdentifier curve)) {
      throw deny("EC key with explicit curve parameters is not allowed: RFC 5480 requires a"
          + " named curve; use P-256, P-384 or P-521");
    }
    if (!NIST_CURVES.contains(curve)) {
      String name = ECNamedCurveTable.getName(curve);
      String bits = key instanceof ECKey ec
          ? String.valueOf(ec.getParams().getCurve().getField().getFieldSize()) : "unknown";
      throw deny("EC key of " + bits + " bits is not allowed: use P-256, P-384 or P-521 (the"
          + " key's curve is " + (name == null ? curve.getId() : name) + ")");
    }
  }

  private static AlgorithmIdentifier algorithmOf(PublicKey key) {
    return SubjectPublicKeyInfo.getInstance(key.getEncoded()).getAlgorithm();
  }

  private static List<String> names(ProvisionerConfig provisioner, VerifiedIdentity identity,
      CertificateRequest csr) {
    Set<String> requested = new LinkedHashSet<>();
    // step-ca lets a provisioner without custom SANs name the instance id as subject; the id
    // is then the common name only, not a SAN.
    boolean instanceIdSubject = provisioner.disableCustomSans()
        && identity.subject().equals(identity.instanceId());
    if (!instanceIdSubject) {
      requested.add(canonical(identity.subject()));
    }
    for (String san : csr.sans()) {
      if (!(instanceIdSubject && san.equals(identity.instanceId()))) {
        requested.add(canonical(san));
      }
    }
    Set<String> vouched = new LinkedHashSet<>();
    for (String name : identity.vouchedNames()) {
      vouched.add(canonical(name));
    }
    for (String name : requested) {
      NameSyntax.check(name, STAGE);
    }
    if (identity.tokenSans() != null) {
      Set<String> allowed = new LinkedHashSet<>();
      allowed.add(canonical(identity.subject()));
      identity.tokenSans().forEach(name -> allowed.add(canonical(name)));
      for (String name : requested) {
        if (!allowed.contains(name)) {
          throw deny("name " + name + " is in the CSR but not in the token's sans " + allowed);
        }
      }
    }
    if (provisioner.disableCustomSans()) {
      for (String name : requested) {
        if (!vouched.contains(name)) {
          throw deny("name " + name + " is not allowed: provisioner " + provisioner.name()
              + " issues only the names the cloud vouches for, " + vouched);
        }
      }
    }
    List<String> sans = new ArrayList<>(requested);
    for (String name : vouched) {
      if (!requested.contains(name)) {
        sans.add(name);
      }
    }
    checkNameTotals(sans);
    return sans;
  }

  /**
   * Denies the first name that the CA's name policy or the provisioner's does not allow, in the
   * order of the list, checking the CA's policy first for each name.
   *
   * @throws PolicyDeniedException naming the name and the rule, such as {@code name
   *     db.example.com is denied by the provisioner's deny list (*.example.com)}
   */
  public static void checkNamePolicies(NamePolicy caNamePolicy, NamePolicy provisionerPolicy,
      List<String> names) {
    for (String name : names) {
      caNamePolicy.check(name, "CA");
      provisionerPolicy.check(name, "provisioner");
    }
  }

  /**
   * Denies a certificate whose common name or subject alternative names include one of the
   * CA's own names, the DNS names and addresses at which clients reach the CA. Clients trust
   * every certificate under the CA's root, so the holder of such a certificate could pose as
   * the CA to them. DNS names compare in lower case and IP addresses by value.
   *
   * @param reserved the CA's names as {@link #canonicalNames} returns them
   * @param stage the stage that the rejection names, such as {@code policy} or {@code renew}
   * @throws PolicyDeniedException naming the first such name
   */
  public static void checkNotCaNames(Set<String> reserved, String commonName,
      List<String> names, String stage) {
    List<String> carried = new ArrayList<>(names);
    if (commonName != null) {
      carried.add(commonName);
    }
    for (String name : carried) {
      if (reserved.contains(canonical(name))) {
        throw new PolicyDeniedException(stage, "name " + name + " is a name of this CA "
            + reserved + ", and a certificate with it could pose as the CA to clients:"
            + " request other names");
      }
    }
  }

  /**
   * Returns the names in the form that {@link #checkNotCaNames} compares: DNS names in lower
   * case, IP addresses in the JDK's text form. Computed once per CA, not per request.
   */
  public static Set<String> canonicalNames(List<String> names) {
    Set<String> canonical = new LinkedHashSet<>();
    for (String name : names) {
      canonical.add(canonical(name));
    }
    return Set.copyOf(canonical);
  }

  private static void checkNameTotals(List<String> sans) {
    int characters = 0;
    for (String name : sans) {
      characters += name.length() + 1;
    }
    if (sans.size() > MAX_NAMES || characters > MAX_NAME_CHARACTERS) {
      throw deny("the certificate would carry " + sans.size() + " names of " + characters
          + " characters in total, more than the limits of " + MAX_NAMES + " names and "
          + MAX_NAME_CHARACTERS + " characters: request fewer names");
    }
  }

  /** Lower-cases DNS names and rewrites IP literals in their canonical form. */
  static String canonical(String name) {
    if (SubjectNames.isIpAddress(name)) {
      try {
        return InetAddress.getByName(name).getHostAddress();
      } catch (UnknownHostException e) {
        return name;
      }
    }
    return name.contains("://") ? name : name.toLowerCase(Locale.ROOT);
  }

  private static Instant[] validity(ProvisionerConfig provisioner, Instant notBefore,
      Instant notAfter, Instant now, Instant issuerNotAfter) {
    Lifetime lifetime = provisioner.lifetime();
    Instant start = notBefore == null ? now : notBefore;
    if (notBefore != null && notBefore.isBefore(now.minus(BACKDATE))) {
      throw deny("notBefore " + notBefore + " lies in the past");
    }
    if (notBefore != null && notBefore.isAfter(plus(now, lifetime.max()))) {
      throw deny("notBefore " + notBefore + " lies more than " + Durations.format(lifetime.max())
          + " after the request at " + now + ": request an earlier start, or none");
    }
    Instant end = notAfter == null ? plus(start, lifetime.defaultDuration()) : notAfter;
    if (notAfter != null && !notAfter.isAfter(now)) {
      throw deny("notAfter " + notAfter + " lies in the past, before the request at " + now
          + ": request a later end, or none for the default lifetime");
    }
    if (notAfter != null && !notAfter.isAfter(start)) {
      throw deny("notAfter " + notAfter + " is not after notBefore " + start
          + ": request an end after the start");
    }
    Duration duration = Duration.between(start, end);
    if (duration.compareTo(lifetime.min()) < 0 || duration.compareTo(lifetime.max()) > 0) {
      throw deny("requested lifetime " + Durations.format(duration.withNanos(0))
          + " is outside the allowed " + Durations.format(lifetime.min()) + " to "
          + Durations.format(lifetime.max()));
    }
    if (issuerNotAfter != null && end.isAfter(issuerNotAfter)) {
      // A leaf must not outlive its issuer (RFC 5280 path validation would reject it).
      Duration left = Duration.between(start, issuerNotAfter);
      if (left.compareTo(lifetime.min()) < 0) {
        throw deny("the intermediate CA certificate expires at " + issuerNotAfter
            + ", which leaves this certificate " + Durations.format(left.withNanos(0))
            + ", less than the minimum lifetime " + Durations.format(lifetime.min())
            + " of provisioner " + provisioner.name() + ": renew the intermediate CA"
            + " certificate");
      }
      end = issuerNotAfter;
    }
    Instant backdated = notBefore == null ? now.minus(BACKDATE) : notBefore;
    return new Instant[] {backdated, end};
  }

  /** Adds, saturating at {@link Instant#MAX} instead of failing for very long lifetimes. */
  private static Instant plus(Instant instant, Duration duration) {
    try {
      return instant.plus(duration);
    } catch (DateTimeException | ArithmeticException e) {
      return Instant.MAX;
    }
  }

  static String quote(String value) {
    return value == null ? "(none)" : "'" + value + "'";
  }

  private static PolicyDeniedException deny(String reason) {
    return new PolicyDeniedException(STAGE, reason);
  }
}
