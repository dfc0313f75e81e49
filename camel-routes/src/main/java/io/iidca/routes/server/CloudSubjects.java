package io.iidca.routes.server;

import io.iidca.ca.pki.CertificateRequest;
import io.iidca.ca.provisioner.VerifiedIdentity;

/**
 * The subject of a GCP or Azure certificate. An AWS token carries the subject the client chose
 * ({@code sub}). A GCP or Azure token is the cloud's own and carries none, so the subject is the
 * CSR's common name. Policy then checks it like every other requested name, so with custom SANs
 * disabled it must be a name the cloud vouches for, or the instance id.
 */
final class CloudSubjects {

  private CloudSubjects() {}

  /**
   * Returns the identity with the CSR's common name as subject. Without a common name the
   * identity is returned unchanged, and policy rejects the CSR for lacking one.
   */
  static VerifiedIdentity fromRequest(VerifiedIdentity identity, CertificateRequest csr) {
    String commonName = csr.commonName();
    if (commonName == null || commonName.isBlank()) {
      return identity;
    }
    return identity.withSubject(commonName);
  }
}
