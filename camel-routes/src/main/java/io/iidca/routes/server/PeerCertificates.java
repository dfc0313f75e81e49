package io.iidca.routes.server;

import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.PolicyDeniedException;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.pki.PossessionToken;
import io.iidca.ca.pki.Providers;
import io.iidca.ca.store.CertificateRecord;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import org.apache.camel.Exchange;
import org.apache.camel.component.platform.http.vertx.HttpMessage;

/**
 * Authenticates the certificate a client presented over mutual TLS or, when the connection
 * carries none, in a possession token ({@link PossessionToken}) sent as {@code Authorization:
 * Bearer}: it must be signed by this CA's intermediate, recorded in the store with the same
 * encoding, and not revoked. A token's id is then recorded, so that the token acts once.
 * Whether an expired certificate may still act is the caller's decision.
 */
final class PeerCertificates {

  /** The scope of possession tokens' ids in the store's used tokens. */
  static final String TOKEN_SCOPE = "(certificate holder)";
  private static final String BEARER = "Bearer ";

  private PeerCertificates() {}

  /**
   * Returns the record of the client's certificate.
   *
   * @throws IdentityRejectedException if there is no client certificate, or it is not this
   *     CA's
   * @throws PolicyDeniedException if it was revoked
   */
  static CertificateRecord authenticate(Exchange exchange, CaRuntime runtime, String stage) {
    CertificateRecord record = authenticateIfPresented(exchange, runtime, stage);
    if (record == null) {
      throw new IdentityRejectedException(stage, "no client certificate: send the certificate"
          + " over mutual TLS, or a possession token signed with its key as Authorization:"
          + " Bearer");
    }
    return record;
  }

  /**
   * Returns the record of the certificate that the client presented over mutual TLS or in a
   * possession token, or null when it presented neither.
   *
   * @throws IdentityRejectedException if the certificate or the token fails a check
   * @throws PolicyDeniedException if the certificate was revoked
   */
  static CertificateRecord authenticateIfPresented(Exchange exchange, CaRuntime runtime,
      String stage) {
    X509Certificate peer = ClientCertificates.of(exchange);
    if (peer != null) {
      return authenticate(peer, runtime, stage);
    }
    String token = bearerToken(exchange);
    if (token == null || !(exchange.getMessage() instanceof HttpMessage message)) {
      return null;
    }
    PossessionToken.Verified verified = PossessionToken.verify(token,
        runtime.config().dnsNames(), message.getRequest().path(),
        exchange.getMessage().getBody(byte[].class), runtime.clock().instant(), stage);
    CertificateRecord record = authenticate(verified.certificate(), runtime, stage);
    // Only after every check, so that a forged token leaves nothing behind.
    runtime.store().useToken(TOKEN_SCOPE, verified.tokenId(), verified.expiry());
    return record;
  }

  private static String bearerToken(Exchange exchange) {
    String header = exchange.getMessage().getHeader("Authorization", String.class);
    if (header == null || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return null;
    }
    return header.substring(BEARER.length()).strip();
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
