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
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.PublicKey;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Decides what certificate a verified identity gets, or denies the request (HTTP 403).
 *
 * <ul>
 *   <li>The CSR's common name must equal the token's subject. A CSR that asks for
 *       {@code CA:true} is denied; other CSR extensions are ignored.
 *   <li>Names: the subject plus the CSR's SANs are requested. When the token lists
 *       {@code sans}, every requested name must be among them. With custom SANs disabled, every
 *       requested name must be one that the cloud vouches for, and the subject may also be the
 *       instance id (as in step-ca), which then is the common name only. The certificate holds
 *       the requested names and the vouched names. IP addresses compare by value.
 *   <li>Keys: ECDSA P-256, P-384 or P-521, RSA of 2048 bits or more, or Ed25519.
 *   <li>Validity: the provisioner's default unless the request names one; the lifetime must lie
 *       within the provisioner's min and max.
 * </ul>
 *
 * <p>Stateless and thread-safe.
 */
public final class IssuancePolicy {

  /** notBefore lies this far before the request, so clients with slow clocks can use it. */
  public static final Duration BACKDATE = Duration.ofMinutes(1);

  private static final String STAGE = "policy";
  private static final Pattern DNS_NAME = Pattern.compile(
      "(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");

  private IssuancePolicy() {}

  /**
   * Applies the provisioner's policy.
   *
   * @param notBefore requested start, or null
   * @param notAfter requested end, or null
   * @throws PolicyDeniedException naming the value that policy does not allow
   */
  public static CertificateTemplate apply(ProvisionerConfig provisioner,
      VerifiedIdentity identity, CertificateRequest csr, Instant notBefore, Instant notAfter,
      Instant now) {
    checkSubject(identity, csr);
    if (csr.requestsCa()) {
      throw deny("the CSR requests basicConstraints CA:true; iidca issues only end-entity"
          + " certificates");
    }
    checkKey(csr.publicKey());
    List<String> sans = names(provisioner, identity, csr);
    Instant[] validity = validity(provisioner.lifetime(), notBefore, notAfter, now);
    return new CertificateTemplate(identity.subject(), sans, csr.publicKey(), validity[0],
        validity[1], new IidcaExtension(identity.provisionerType(), identity.provisioner(),
            identity.instanceId(), identity.account()));
  }

  private static void checkSubject(VerifiedIdentity identity, CertificateRequest csr) {
    if (csr.commonName() == null || !csr.commonName().equals(identity.subject())) {
      throw deny("CSR common name " + quote(csr.commonName())
          + " does not match the token subject " + quote(identity.subject()));
    }
  }

  private static void checkKey(PublicKey key) {
    switch (key.getAlgorithm()) {
      case "EC", "ECDSA" -> {
        int bits = ((ECKey) key).getParams().getCurve().getField().getFieldSize();
        if (bits != 256 && bits != 384 && bits != 521) {
          throw deny("EC key of " + bits + " bits is not allowed: use P-256, P-384 or P-521");
        }
      }
      case "RSA" -> {
        int bits = ((RSAKey) key).getModulus().bitLength();
        if (bits < 2048) {
          throw deny("RSA key of " + bits + " bits is too small: use 2048 bits or more");
        }
      }
      case "Ed25519", "EdDSA" -> {
        // Ed25519 has one size.
      }
      default -> throw deny("key type " + key.getAlgorithm()
          + " is not allowed: use EC, RSA or Ed25519");
    }
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
      checkSyntax(name);
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
    return sans;
  }

  private static void checkSyntax(String name) {
    if (SubjectNames.isIpAddress(name) || name.contains("@") || name.contains("://")) {
      return;
    }
    if (name.startsWith("*.")) {
      throw deny("wildcard name " + name + " is not issued to instances");
    }
    if (!DNS_NAME.matcher(name).matches()) {
      throw deny("name " + quote(name) + " is not a valid DNS name");
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

  private static Instant[] validity(Lifetime lifetime, Instant notBefore, Instant notAfter,
      Instant now) {
    Instant start = notBefore == null ? now : notBefore;
    if (notBefore != null && notBefore.isBefore(now.minus(BACKDATE))) {
      throw deny("notBefore " + notBefore + " lies in the past");
    }
    Instant end = notAfter == null ? start.plus(lifetime.defaultDuration()) : notAfter;
    Duration duration = Duration.between(start, end);
    if (duration.compareTo(lifetime.min()) < 0 || duration.compareTo(lifetime.max()) > 0) {
      throw deny("requested lifetime " + Durations.format(duration.withNanos(0))
          + " is outside the allowed " + Durations.format(lifetime.min()) + " to "
          + Durations.format(lifetime.max()));
    }
    Instant backdated = notBefore == null ? now.minus(BACKDATE) : notBefore;
    return new Instant[] {backdated, end};
  }

  private static String quote(String value) {
    return value == null ? "(none)" : "'" + value + "'";
  }

  private static PolicyDeniedException deny(String reason) {
    return new PolicyDeniedException(STAGE, reason);
  }
}
