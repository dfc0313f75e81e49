package io.iidca.routes.server;

import io.iidca.ca.pki.Fingerprints;
import io.iidca.ca.policy.IssuancePolicy;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The policy stage: names, name policy, key, validity; produces the certificate template. It
 * denies the CA's own names, and it rejects a CSR whose key was revoked for keyCompromise,
 * from the store's copy of those revocations, before signing. The record stage does not check
 * this key again, so that the batched commit of enrollments reads nothing. NOTE: a revocation
 * that another CA node commits reaches the copy within 10 s, and one that commits while the
 * request is between this stage and its commit does not stop it.
 */
final class PolicyStage implements Processor {

  private final CaRuntime runtime;

  PolicyStage(CaRuntime runtime) {
    this.runtime = runtime;
  }

  /**
   * Applies policy as of the time the request was received, because the decode stage resolved
   * durations such as {@code notAfter: 5m} from that instant; the intermediate's notAfter
   * bounds the certificate's. The CA's name policy applies beside the provisioner's.
   */
  @Override
  public void process(Exchange exchange) {
    Enrollment enrollment = exchange.getProperty(Enrollment.PROPERTY, Enrollment.class);
    enrollment.template = IssuancePolicy.apply(enrollment.provisioner, enrollment.identity,
        enrollment.csr, enrollment.notBefore, enrollment.notAfter, enrollment.receivedAt,
        runtime.issuer().certificate().getNotAfter().toInstant(),
        runtime.config().namePolicy());
    IssuancePolicy.checkNotCaNames(runtime.caNames(),
        enrollment.template.commonName(), enrollment.template.sans(), "policy");
    String keyFingerprint = Fingerprints.of(enrollment.template.publicKey());
    runtime.store().findKeyCompromiseCopy(keyFingerprint).ifPresent(revocation -> {
      throw revocation.denyCompromisedKey("policy", "the CSR's key", keyFingerprint,
          "generate a new key pair and send a CSR for it");
    });
  }
}
