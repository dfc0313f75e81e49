package io.iidca.routes.server;

import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.PolicyDeniedException;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.pki.Providers;
import io.iidca.ca.store.CertificateRecord;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import org.apache.camel.Exchange;

/**
 * Authenticates the certificate a client presented over mutual TLS: it must be signed by this
 * CA's intermediate, recorded in the store with the same encoding, and not revoked. Whether an
 * expired certificate may still act is the caller's decision.
 */
final class PeerCertificates {

  private PeerCertificates() {}

  /**
   * Returns the record of the client's certificate.
   *
   * @throws IdentityRejectedException if there is no client certificate, or it is not this
   *     CA's
   * @throws PolicyDeniedException if it was revoked
   */
  static CertificateRecord authenticate(Exchange exchange, CaRuntime runtime, String stage) {
    X509Certificate peer = ClientCertificates.of(exchange);
    if (peer == null) {
      throw new IdentityRejectedException(stage, "no client certificate: send the certificate"
          + " over mutual TLS");
    }
    return authenticate(peer, runtime, stage);
  }

  static CertificateRecord authenticate(X509Certificate peer, CaRuntime runtime, String stage) {
    try {
      peer.verify(runtime.issuer().certificate().getPublicKey(), Providers.bouncyCastle());
    } catch (GeneralSecurityException e) {
      throw new IdentityRejectedException(stage, "client certificate " + peer
          .getSerialNumber().toString(16) + " was not issued by this CA's intermediate");
    }
    String serial = peer.getSerialNumber().toString(16);
    CertificateRecord record = runtime.store().findCertificate(serial)
        .orElseThrow(() -> new IdentityRejectedException(stage, "client certificate " + serial
            + " is not recorded by this CA"));
    if (!sameEncoding(record, peer)) {
      throw new IdentityRejectedException(stage, "client certificate " + serial
          + " differs from the recorded one");
    }
    runtime.store().findRevocation(serial).ifPresent(revocation -> {
      throw new PolicyDeniedException(stage, "certificate " + serial + " was revoked at "
          + revocation.revokedAt() + "; enroll again with the instance's identity document");
    });
    return record;
  }

  private static boolean sameEncoding(CertificateRecord record, X509Certificate peer) {
    try {
      X509Certificate recorded = Pem.parseCertificates(record.certificatePem()
          .getBytes(StandardCharsets.US_ASCII)).get(0);
      return Arrays.equals(recorded.getEncoded(), peer.getEncoded());
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }
}
