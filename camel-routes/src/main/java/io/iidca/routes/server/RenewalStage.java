package io.iidca.routes.server;

import io.iidca.ca.config.Durations;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.error.PolicyDeniedException;
import io.iidca.ca.pki.CertificateRequest;
import io.iidca.ca.pki.CertificateTemplate;
import io.iidca.ca.pki.Fingerprints;
import io.iidca.ca.pki.IidcaExtension;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.policy.IssuancePolicy;
import io.iidca.ca.provisioner.VerifiedIdentity;
import io.iidca.ca.store.CertificateRecord;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The renew stage, for {@code POST /1.0/renew} and {@code /1.0/rekey}: authenticates the
 * client's certificate over mutual TLS or in a possession token ({@link PeerCertificates}),
 * applies the provisioner's renewal rules, and builds a certificate with the same subject,
 * names and lifetime, a new serial and validity, and the same key (renew) or the key of the
 * request's CSR (rekey).
 *
 * <p>Rules: the provisioner still exists and allows renewal; the certificate has not expired
 * unless the provisioner allows renewal after expiry; with a re-attestation horizon, the last
 * identity check is recent enough; the names still pass the CA's and the provisioner's name
 * policy; and no name is one of the CA's own. The presented certificate's key and a rekey
 * CSR's key must pass the key policy, and neither may be one that a certificate revoked for
 * keyCompromise carried.
 */
final class RenewalStage implements Processor {

  private static final String STAGE = "renew";

  private final CaRuntime runtime;

  RenewalStage(CaRuntime runtime) {
    this.runtime = runtime;
  }

  @Override
  public void process(Exchange exchange) throws Exception {
    Enrollment enrollment = exchange.getProperty(Enrollment.PROPERTY, Enrollment.class);
    Instant now = enrollment.receivedAt;
    CertificateRecord old = PeerCertificates.authenticate(exchange, runtime, STAGE);
    X509Certificate oldCertificate = Pem.parseCertificates(old.certificatePem()
        .getBytes(StandardCharsets.US_ASCII)).get(0);
    ProvisionerConfig provisioner = runtime.config().provisioner(old.provisioner())
        .orElseThrow(() -> deny("provisioner " + old.provisioner() + " of certificate "
            + old.serial() + " no longer exists; enroll with a current provisioner"));
    enrollment.provisioner = provisioner;
    enrollment.renewedFrom = old;
    enrollment.identity = new VerifiedIdentity(provisioner.type(), provisioner.name(),
        old.instanceId(), old.account(), null, null, List.of(), old.subject(), null, null,
        null);
    checkRules(provisioner, old, now);
    // A policy made stricter after the certificate was issued applies to its renewals too.
    IssuancePolicy.checkNamePolicies(runtime.config().namePolicy(), provisioner.namePolicy(),
        old.sans());
    IssuancePolicy.checkNotCaNames(runtime.caNames(), old.subject(), old.sans(),
        STAGE);

    // The presented certificate's key authenticated this request. Once that key is reported
    // compromised it authorizes nothing, a rekey to a new key included, because an attacker
    // with the stolen key could send the same rekey.
    rejectCompromisedKey(old.keyFingerprint(), "the key of certificate " + old.serial(),
        "enroll again with a new key and the instance's identity document");
    // A key that policy no longer allows, such as an RSA key with the public exponent 1 that
    // anyone can sign for, authenticates nothing either.
    PublicKey key = oldCertificate.getPublicKey();
    IssuancePolicy.checkKey(key);
    if (enrollment.rekey) {
      byte[] body = exchange.getMessage().getBody(byte[].class);
      key = CertificateRequest.parse(Decoder.csrField(body), STAGE).publicKey();
      IssuancePolicy.checkKey(key);
      rejectCompromisedKey(Fingerprints.of(key), "the CSR's key",
          "rekey with a CSR for a new key");
    }
    Duration lifetime = Duration.between(old.notBefore(), old.notAfter());
    enrollment.template = new CertificateTemplate(old.subject(), old.sans(), key,
        now.minus(IssuancePolicy.BACKDATE), now.minus(IssuancePolicy.BACKDATE).plus(lifetime),
        IidcaExtension.from(oldCertificate).orElse(null));
  }

  private static void checkRules(ProvisionerConfig provisioner, CertificateRecord old,
      Instant now) {
    if (provisioner.disableRenewal()) {
      throw deny("provisioner " + provisioner.name() + " does not allow renewal; enroll again"
          + " with the instance's identity document");
    }
    if (now.isAfter(old.notAfter()) && !provisioner.allowRenewalAfterExpiry()) {
      throw deny("certificate " + old.serial() + " expired at " + old.notAfter()
          + "; enroll again with the instance's identity document");
    }
    Duration horizon = provisioner.reattestAfter();
    if (horizon != null && Duration.between(old.attestedAt(), now).compareTo(horizon) > 0) {
      throw deny("the identity behind certificate " + old.serial() + " was last proven at "
          + old.attestedAt() + ", more than " + Durations.format(horizon) + " ago; enroll"
          + " again with a fresh identity document, presenting this certificate");
    }
  }

  private void rejectCompromisedKey(String keyFingerprint, String key, String remedy) {
    runtime.store().findKeyCompromise(keyFingerprint).ifPresent(revocation -> {
      throw revocation.denyCompromisedKey(STAGE, key, keyFingerprint, remedy);
    });
  }

  private static PolicyDeniedException deny(String reason) {
    return new PolicyDeniedException(STAGE, reason);
  }
}
