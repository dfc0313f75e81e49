package io.iidca.ca.pki;

import io.iidca.ca.error.UnavailableException;
import io.iidca.ca.store.JdbcStore;
import io.iidca.ca.store.Revocation;
import java.io.IOException;
import java.math.BigInteger;
import java.security.cert.CertificateEncodingException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bouncycastle.asn1.ASN1GeneralizedTime;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.ocsp.OCSPRequest;
import org.bouncycastle.asn1.ocsp.RevokedInfo;
import org.bouncycastle.asn1.oiw.OIWObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPException;
import org.bouncycastle.cert.ocsp.OCSPReq;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.bouncycastle.cert.ocsp.Req;
import org.bouncycastle.cert.ocsp.RespID;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.cert.ocsp.UnknownStatus;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OCSP responder (RFC 6960) for the leaves that the intermediate CA issued. The intermediate
 * signs the responses itself, as the issuer of the certificates in question, so no delegated
 * responder certificate is included (RFC 6960, 4.2.2.2). The responder ID is the SHA-1 hash of
 * the intermediate's public key ({@code byKey}).
 *
 * <p>Each CertID in a request gets one status:
 *
 * <ul>
 *   <li>{@code unknown} when its issuerNameHash or issuerKeyHash is not the intermediate's, or its
 *       hash algorithm is not SHA-1, SHA-256, SHA-384 or SHA-512;
 *   <li>{@code revoked} with the revocation time, and the reason unless it is unspecified, when
 *       the serial was revoked;
 *   <li>{@code good} when the serial is recorded and not revoked, expired or not;
 *   <li>{@code unknown} when this CA never recorded the serial.
 * </ul>
 *
 * <p>thisUpdate and producedAt are now, nextUpdate is now plus {@link #VALIDITY}. A nonce
 * extension (RFC 6960, 4.4.1, with RFC 9654's length limit of 1 to 128 octets) is copied into
 * the response. Invalid DER, trailing data, no CertID or more than {@link #MAX_CERT_IDS}, an
 * invalid nonce, or an unknown critical extension returns {@code malformedRequest}; a store
 * that cannot be reached returns {@code tryLater}, and any other failure {@code internalError}.
 *
 * <p>Not checked: request signatures, which are optional in RFC 6960, 4.1.2. A signed request
 * gets the same response as an unsigned one. Responses are signed per request, not
 * pre-produced.
 *
 * <p>Thread-safe, if the {@link StatusSource} is.
 */
public final class OcspResponder {

  /** The time from thisUpdate to nextUpdate of each response. */
  public static final Duration VALIDITY = Duration.ofHours(1);

  /**
   * The maximum number of CertIDs in one request. RFC 6960 sets no limit, but each CertID
   * costs up to two store queries; {@code openssl ocsp} sends one per {@code -cert}.
   */
  public static final int MAX_CERT_IDS = 32;

  /** The maximum nonce length of RFC 9654, which raised RFC 8954's limit of 32 octets. */
  static final int MAX_NONCE_OCTETS = 128;

  private static final Logger LOG = LoggerFactory.getLogger(OcspResponder.class);

  /** The CertID hash algorithms whose issuer hashes this responder computes. */
  private static final List<ASN1ObjectIdentifier> HASH_ALGORITHMS = List.of(
      OIWObjectIdentifiers.idSHA1, NISTObjectIdentifiers.id_sha256,
      NISTObjectIdentifiers.id_sha384, NISTObjectIdentifiers.id_sha512);

  /** The certificate status records that the responder reads. */
  public interface StatusSource {

    /**
     * Returns the revocation of a serial in lower-case hexadecimal, if it was revoked.
     *
     * @throws UnavailableException if the store cannot be reached
     */
    Optional<Revocation> findRevocation(String serial);

    /**
     * Returns whether this CA recorded a certificate with the serial.
     *
     * @throws UnavailableException if the store cannot be reached
     */
    boolean isIssued(String serial);
  }

  private final Issuer issuer;
  private final StatusSource source;
  private final RespID responderId;
  private final DigestCalculatorProvider digests;
  private final Map<ASN1ObjectIdentifier, CertificateID> issuerIds;
  private final AtomicBoolean storeUnavailable = new AtomicBoolean();

  public OcspResponder(Issuer issuer, StatusSource source) {
    this.issuer = issuer;
    this.source = source;
    try {
      X509CertificateHolder intermediate = new JcaX509CertificateHolder(issuer.certificate());
      this.digests = new JcaDigestCalculatorProviderBuilder()
          .setProvider(Providers.bouncyCastle()).build();
      this.responderId = new RespID(intermediate.getSubjectPublicKeyInfo(),
          digests.get(CertificateID.HASH_SHA1));
      this.issuerIds = issuerIds(intermediate, digests);
    } catch (CertificateEncodingException | OperatorCreationException | OCSPException e) {
      throw new IllegalArgumentException("ocsp: cannot read the intermediate certificate: "
          + e.getMessage(), e);
    }
  }

  /** Returns a source that reads revocations and certificates from the store. */
  public static StatusSource storeSource(JdbcStore store) {
    return new StatusSource() {
      @Override
      public Optional<Revocation> findRevocation(String serial) {
        return store.findRevocation(serial);
      }

      @Override
      public boolean isIssued(String serial) {
        return store.findCertificate(serial).isPresent();
      }
    };
  }

  /**
   * Returns the DER OCSPResponse for a DER OCSPRequest. Never throws for bad input: every
   * failure becomes an OCSPResponse with an error status, as RFC 6960, 2.3, defines them.
   */
  public byte[] respond(byte[] request, Instant now) {
    try {
      return response(request, now).getEncoded();
    } catch (IOException e) {
      throw new IllegalStateException("ocsp: cannot encode the response", e);
    }
  }

  /**
   * Returns the DER OCSPResponse with status {@code malformedRequest}, for a request that the
   * HTTP layer could not even extract, such as invalid base64 in a GET URL.
   */
  public static byte[] malformedRequest() {
    try {
      return error(OCSPRespBuilder.MALFORMED_REQUEST).getEncoded();
    } catch (IOException e) {
      throw new IllegalStateException("ocsp: cannot encode the response", e);
    }
  }

  /** Returns the OCSPResponse for a DER OCSPRequest; see {@link #respond(byte[], Instant)}. */
  public OCSPResp response(byte[] request, Instant now) {
    ParsedRequest parsed;
    try {
      parsed = parse(request);
    } catch (MalformedOcspRequestException e) {
      LOG.debug("ocsp: malformed request: {}", e.getMessage());
      return error(OCSPRespBuilder.MALFORMED_REQUEST);
    }
    try {
      OCSPResp response = successful(parsed, now);
      if (storeUnavailable.compareAndSet(true, false)) {
        LOG.info("ocsp: the store can be reached again; no longer returning tryLater");
      }
      return response;
    } catch (UnavailableException e) {
      // Logged once per outage: every request during an outage would repeat it.
      if (storeUnavailable.compareAndSet(false, true)) {
        LOG.warn("ocsp: returning tryLater until the store can be reached again: {}",
            e.getMessage());
      }
      return error(OCSPRespBuilder.TRY_LATER);
    } catch (OCSPException | RuntimeException e) {
      LOG.error("ocsp: returning internalError because building the response failed", e);
      return error(OCSPRespBuilder.INTERNAL_ERROR);
    }
  }

  /** A request whose every part was decoded, so that its response cannot fail on its shape. */
  private record ParsedRequest(List<CertificateID> certIds, Extension nonce) {}

  private static final class MalformedOcspRequestException extends Exception {
    MalformedOcspRequestException(String message) {
      super(message);
    }
  }

  private static ParsedRequest parse(byte[] der) throws MalformedOcspRequestException {
    if (der == null || der.length == 0) {
      throw new MalformedOcspRequestException("the request is empty");
    }
    OCSPReq request;
    try {
      // fromByteArray rejects data after the request, which new OCSPReq(byte[]) would ignore.
      request = new OCSPReq(OCSPRequest.getInstance(ASN1Primitive.fromByteArray(der)));
    } catch (IOException | RuntimeException e) {
      throw new MalformedOcspRequestException("not a DER OCSPRequest: " + e.getMessage());
    }
    try {
      return new ParsedRequest(certIds(request), nonce(request));
    } catch (RuntimeException e) {
      // BC decodes nested structures lazily, so a bad CertID surfaces only here.
      throw new MalformedOcspRequestException("invalid field in the OCSPRequest: " + e);
    }
  }

  private static List<CertificateID> certIds(OCSPReq request)
      throws MalformedOcspRequestException {
    Req[] requests = request.getRequestList();
    if (requests.length == 0) {
      throw new MalformedOcspRequestException("the request list is empty");
    }
    if (requests.length > MAX_CERT_IDS) {
      throw new MalformedOcspRequestException("the request has " + requests.length
          + " CertIDs, more than the maximum of " + MAX_CERT_IDS);
    }
    List<CertificateID> certIds = new ArrayList<>();
    for (Req single : requests) {
      rejectCriticalExtensions(single.getSingleRequestExtensions(), Set.of(), "singleRequest");
      CertificateID certId = single.getCertID();
      // Decode every field now: the parts that BC decodes lazily fail here, not later.
      certId.getHashAlgOID();
      certId.getIssuerNameHash();
      certId.getIssuerKeyHash();
      certId.getSerialNumber();
      certIds.add(certId);
    }
    return certIds;
  }

  /** Returns the nonce extension, made non-critical for the response, or null for none. */
  private static Extension nonce(OCSPReq request) throws MalformedOcspRequestException {
    rejectCriticalExtensions(request.hasExtensions() ? extensions(request) : null,
        Set.of(OCSPObjectIdentifiers.id_pkix_ocsp_nonce), "request");
    Extension nonce = request.getExtension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce);
    if (nonce == null) {
      return null;
    }
    int length = nonceLength(nonce.getExtnValue().getOctets());
    if (length < 1 || length > MAX_NONCE_OCTETS) {
      throw new MalformedOcspRequestException("the nonce has " + length
          + " octets; RFC 9654 allows 1 to " + MAX_NONCE_OCTETS);
    }
    return new Extension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce, false, nonce.getExtnValue());
  }

  /**
   * Returns the nonce's length: of the OCTET STRING that RFC 6960 puts in extnValue, or of the
   * raw extnValue that clients before RFC 6960 sent.
   */
  private static int nonceLength(byte[] extnValue) {
    try {
      return ASN1OctetString.getInstance(ASN1Primitive.fromByteArray(extnValue))
          .getOctets().length;
    } catch (IOException | IllegalArgumentException e) {
      return extnValue.length;
    }
  }

  private static Extensions extensions(OCSPReq request) {
    List<Extension> all = new ArrayList<>();
    for (Object oid : request.getExtensionOIDs()) {
      all.add(request.getExtension((ASN1ObjectIdentifier) oid));
    }
    return new Extensions(all.toArray(new Extension[0]));
  }

  /** Rejects critical extensions outside {@code understood}, as RFC 6960, 4.4, requires. */
  private static void rejectCriticalExtensions(Extensions extensions,
      Set<ASN1ObjectIdentifier> understood, String where) throws MalformedOcspRequestException {
    if (extensions == null) {
      return;
    }
    for (ASN1ObjectIdentifier oid : extensions.getCriticalExtensionOIDs()) {
      if (!understood.contains(oid)) {
        throw new MalformedOcspRequestException("the " + where
            + " has the unknown critical extension " + oid);
      }
    }
  }

  private OCSPResp successful(ParsedRequest request, Instant now) throws OCSPException {
    Instant thisUpdate = now.truncatedTo(ChronoUnit.SECONDS);
    Date nextUpdate = Date.from(thisUpdate.plus(VALIDITY));
    BasicOCSPRespBuilder builder = new BasicOCSPRespBuilder(responderId);
    for (CertificateID certId : request.certIds()) {
      builder.addResponse(certId, status(certId), Date.from(thisUpdate), nextUpdate, null);
    }
    if (request.nonce() != null) {
      builder.setResponseExtensions(new Extensions(request.nonce()));
    }
    BasicOCSPResp basic = builder.build(issuer.contentSigner(), null, Date.from(thisUpdate));
    return new OCSPRespBuilder().build(OCSPRespBuilder.SUCCESSFUL, basic);
  }

  /** Returns null, which BC encodes as {@code good}, or a revoked or unknown status. */
  private CertificateStatus status(CertificateID certId) {
    if (!isIssuedHere(certId)) {
      return new UnknownStatus();
    }
    BigInteger serialNumber = certId.getSerialNumber();
    if (serialNumber.signum() <= 0) {
      return new UnknownStatus(); // this CA's serials are positive (RFC 5280, 4.1.2.2)
    }
    String serial = serialNumber.toString(16);
    Optional<Revocation> revocation = source.findRevocation(serial);
    if (revocation.isPresent()) {
      return revoked(revocation.get());
    }
    return source.isIssued(serial) ? CertificateStatus.GOOD : new UnknownStatus();
  }

  private boolean isIssuedHere(CertificateID certId) {
    CertificateID expected = issuerIds.get(certId.getHashAlgOID());
    return expected != null
        && Arrays.equals(expected.getIssuerNameHash(), certId.getIssuerNameHash())
        && Arrays.equals(expected.getIssuerKeyHash(), certId.getIssuerKeyHash());
  }

  /** Returns the revoked status; the reason is omitted for unspecified, as on the CRL. */
  private static RevokedStatus revoked(Revocation revocation) {
    Date time = Date.from(revocation.revokedAt().truncatedTo(ChronoUnit.SECONDS));
    int code = revocation.reasonCode();
    if (code == CRLReason.unspecified || !CrlSigner.isCrlReason(code)) {
      return new RevokedStatus(new RevokedInfo(new ASN1GeneralizedTime(time), null));
    }
    return new RevokedStatus(time, code);
  }

  private static OCSPResp error(int status) {
    try {
      return new OCSPRespBuilder().build(status, null);
    } catch (OCSPException e) {
      throw new IllegalStateException("ocsp: cannot build a response with status " + status,
          e);
    }
  }

  /** Computes the intermediate's CertID issuer hashes once per supported hash algorithm. */
  private static Map<ASN1ObjectIdentifier, CertificateID> issuerIds(
      X509CertificateHolder intermediate, DigestCalculatorProvider digests)
      throws OperatorCreationException, OCSPException {
    Map<ASN1ObjectIdentifier, CertificateID> ids = new HashMap<>();
    for (ASN1ObjectIdentifier algorithm : HASH_ALGORITHMS) {
      ids.put(algorithm, new CertificateID(digests.get(new AlgorithmIdentifier(algorithm)),
          intermediate, BigInteger.ONE));
    }
    return Map.copyOf(ids);
  }
}
