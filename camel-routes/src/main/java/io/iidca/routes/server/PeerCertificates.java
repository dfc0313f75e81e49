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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticates the certificate a client presented over mutual TLS, in a possession token
 * ({@link PossessionToken}) sent as {@code Authorization: Bearer}, or in both, which must then
 * name the same certificate. It must be signed by this CA's intermediate, recorded in the
 * store with the same encoding, and not revoked. A valid token's id is then recorded under the
 * certificate's serial, so that the token acts once and no other holder can use its id up.
 * Whether an expired certificate may still act is the caller's decision.
 */
final class PeerCertificates {

  /**
   * The prefix of the scope of possession tokens' ids in the store's used tokens, followed by
   * the certificate's serial. It starts with '#', which ProvisionerConfig rejects in the
   * provisioner names that are the table's other scopes.
   */
  static final String TOKEN_SCOPE = "#certificate holder";
  private static final String BEARER = "Bearer ";
  private static final Logger LOG = LoggerFactory.getLogger(PeerCertificates.class);

  private PeerCertificates() {}

  /**
   * Returns the record of the client's certificate.
   *
   * @throws IdentityRejectedException if there is no client certificate, or it is not this
   *     CA's
   * @throws PolicyDeniedException if it was revoked
   */
  static CertificateRecord authenticate(Exchange exchange, CaRuntime runtime, String stage) {
    CertificateRecord record = authenticateIfPresented(exchange, runtime, stage,
        exchange.getMessage().getBody(byte[].class));
    if (record == null) {
      throw new IdentityRejectedException(stage, "no client certificate: send the certificate"
          + " over mutual TLS, or a possession token signed with its key as Authorization:"
          + " Bearer");
    }
    return record;
  }

  /**
   * Returns the record of the certificate that the client presented over mutual TLS or in a
   * possession token for a request with {@code body}, or null when it presented neither.
   *
   * @throws IdentityRejectedException if the certificate or the token fails a check, or the
   *     token names another certificate than the TLS connection carries
   * @throws PolicyDeniedException if the certificate was revoked
   */
  static CertificateRecord authenticateIfPresented(Exchange exchange, CaRuntime runtime,
      String stage, byte[] body) {
    X509Certificate peer = ClientCertificates.of(exchange);
    String token = bearerToken(exchange);
    if (token == null || !(exchange.getMessage() instanceof HttpMessage message)) {
      return peer == null ? null : authenticate(peer, runtime, stage);
    }
    String path = message.getRequest().path();
    if (peer == null) {
      PossessionToken.Verified verified = PossessionToken.verify(token,
          runtime.config().dnsNames(), path, body, runtime.clock().instant(), stage);
      CertificateRecord record = authenticate(verified.certificate(), runtime, stage);
      // Only after every check, so that a forged token leaves nothing behind.
      runtime.store().useToken(tokenScope(record), verified.tokenId(), verified.expiry(), stage);
      return record;
    }
    // The TLS handshake has proven the key already, so a token beside the certificate that
    // fails its own checks (a client clock off by more than the leeway, for example) is only
    // logged. A valid one is used up, so that it cannot act again without the connection.
    PossessionToken.Verified verified = null;
    X509Certificate named;
    try {
      verified = PossessionToken.verify(token, runtime.config().dnsNames(), path, body,
          runtime.clock().instant(), stage);
      named = verified.certificate();
    } catch (IdentityRejectedException invalid) {
      LOG.info("possession token beside TLS client certificate {} not used: {}",
          serial(peer), AuditLog.value(invalid.reason()));
      named = namedCertificateOrNull(token, stage);
    }
    if (named != null && !sameCertificate(peer, named)) {
      // A proxy that presents its own certificate must not act for its clients' tokens.
      throw new IdentityRejectedException(stage, "possession token's certificate "
          + serial(named) + " is not the TLS client certificate " + serial(peer)
          + "; present one certificate");
    }
    CertificateRecord record = authenticate(peer, runtime, stage);
    if (verified != null) {
      try {
        runtime.store().useToken(tokenScope(record), verified.tokenId(), verified.expiry(),
            stage);
      } catch (IdentityRejectedException replayed) {
        // Only the key's holder could send it over this connection.
        LOG.info("possession token beside TLS client certificate {} not used: {}",
            record.serial(), AuditLog.value(replayed.reason()));
      }
    }
    return record;
  }

  /** Returns the certificate that an invalid token names, or null when it names none. */
  private static X509Certificate namedCertificateOrNull(String token, String stage) {
    try {
      return PossessionToken.namedCertificate(token, stage);
    } catch (IdentityRejectedException unreadable) {
      // A token that names no certificate cannot speak for another one.
      return null;
    }
  }

  private static String tokenScope(CertificateRecord record) {
    return TOKEN_SCOPE + " " + record.serial();
  }

  private static boolean sameCertificate(X509Certificate first, X509Certificate second) {
    try {
      return Arrays.equals(first.getEncoded(), second.getEncoded());
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static String serial(X509Certificate certificate) {
    return certificate.getSerialNumber().toString(16);
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
