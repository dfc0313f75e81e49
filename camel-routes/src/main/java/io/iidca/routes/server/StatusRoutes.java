package io.iidca.routes.server;

import io.iidca.ca.error.MalformedRequestException;
import io.iidca.ca.error.NotFoundException;
import io.iidca.ca.error.UnavailableException;
import io.iidca.ca.pki.CrlSigner;
import io.iidca.ca.pki.OcspResponder;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.store.Revocation;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.cert.CRLException;
import java.security.cert.X509CRL;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.function.Supplier;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Certificate status over HTTPS: the CRL (RFC 5280, section 5) and an OCSP responder (RFC
 * 6960), both signed by the intermediate CA.
 *
 * <ul>
 *   <li>{@code GET /crl} and {@code GET /1.0/crl}: the DER CRL as {@code application/pkix-crl};
 *       with {@code ?pem=true}, PEM ({@code -----BEGIN X509 CRL-----}) as text/plain.
 *   <li>{@code POST /ocsp} with a DER OCSPRequest of at most {@value #MAX_OCSP_REQUEST_BYTES}
 *       bytes, and {@code GET /ocsp/{request}} with the URL-encoded base64 of the DER request
 *       (RFC 6960, appendix A.1). Both return {@code application/ocsp-response} with HTTP 200,
 *       including for malformed requests, which get the OCSP status malformedRequest.
 * </ul>
 *
 * <p>Not checked: the Content-Type of a POST request, because the body is parsed as DER
 * whatever it is labeled. Thread-safe.
 */
public final class StatusRoutes extends RouteBuilder {

  /** The maximum size of a POST body; {@code openssl ocsp} sends about 80 bytes per CertID. */
  static final int MAX_OCSP_REQUEST_BYTES = 64 * 1024;
  static final String CRL_CONTENT_TYPE = "application/pkix-crl";
  static final String OCSP_RESPONSE_CONTENT_TYPE = "application/ocsp-response";

  private static final Logger LOG = LoggerFactory.getLogger(StatusRoutes.class);
  private static final String OCSP_PATH = "/ocsp";

  private final CaRuntime runtime;
  private final CrlCache crls;
  private final OcspResponder responder;

  public StatusRoutes(CaRuntime runtime) {
    this.runtime = runtime;
    this.crls = new CrlCache(new CrlSigner(runtime.issuer()), runtime.store()::revocations);
    this.responder = new OcspResponder(runtime.issuer(),
        OcspResponder.storeSource(runtime.store()));
  }

  @Override
  public void configure() {
    for (String prefix : new String[] {"", "/1.0"}) {
      from("platform-http:" + prefix + "/crl?httpMethodRestrict=GET")
          .routeId("status-crl" + (prefix.isEmpty() ? "" : "-v1"))
          .routeConfigurationId(ErrorRoutes.CONFIGURATION_ID)
          .process(this::crl);
    }
    // One consumer for both methods: a GET request's path continues after /ocsp/.
    from("platform-http:" + OCSP_PATH + "?httpMethodRestrict=GET,POST&matchOnUriPrefix=true")
        .routeId("status-ocsp")
        .routeConfigurationId(ErrorRoutes.CONFIGURATION_ID)
        .process(this::ocsp);
  }

  CaRuntime runtime() {
    return runtime;
  }

  /**
   * {@code GET /crl}: the cached CRL as DER, or as PEM with {@code ?pem=true}.
   *
   * @throws MalformedRequestException if {@code pem} is neither true nor false
   * @throws UnavailableException if the store cannot be reached and no cached CRL is valid
   */
  private void crl(Exchange exchange) {
    boolean pem = pemRequested(exchange.getMessage().getHeader("pem", String.class));
    CrlCache.SignedCrl crl = crls.current(runtime.clock().instant());
    Message message = exchange.getMessage();
    message.removeHeaders("*");
    message.setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
    if (pem) {
      message.setHeader(Exchange.CONTENT_TYPE, "text/plain; charset=US-ASCII");
      message.setBody(crl.pem());
    } else {
      message.setHeader(Exchange.CONTENT_TYPE, CRL_CONTENT_TYPE);
      message.setBody(crl.der());
    }
  }

  private static boolean pemRequested(String value) {
    if (value == null || value.equals("false")) {
      return false;
    }
    if (value.equals("true")) {
      return true;
    }
    throw new MalformedRequestException("crl", "query parameter pem is "
        + value.replaceAll("[^A-Za-z0-9]", "?") + "; expected true or false");
  }

  /** {@code POST /ocsp} and {@code GET /ocsp/{request}}. */
  private void ocsp(Exchange exchange) {
    Message message = exchange.getMessage();
    String method = message.getHeader(Exchange.HTTP_METHOD, String.class);
    String path = rawPath(message.getHeader(Exchange.HTTP_URI, String.class));
    byte[] request = "POST".equals(method) ? postedRequest(message, path)
        : urlRequest(path);
    byte[] response = request == null ? OcspResponder.malformedRequest()
        : responder.respond(request, runtime.clock().instant());
    message.removeHeaders("*");
    message.setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
    message.setHeader(Exchange.CONTENT_TYPE, OCSP_RESPONSE_CONTENT_TYPE);
    message.setBody(response);
  }

  /**
   * Returns the POST body, or null when it exceeds the maximum.
   *
   * @throws NotFoundException if the path is not {@code /ocsp}
   */
  private static byte[] postedRequest(Message message, String path) {
    if (!path.equals(OCSP_PATH) && !path.equals(OCSP_PATH + "/")) {
      throw new NotFoundException("ocsp", "no OCSP responder at " + printable(path)
          + "; POST requests to " + OCSP_PATH);
    }
    byte[] body = message.getBody(byte[].class);
    if (body == null) {
      return new byte[0];
    }
    if (body.length > MAX_OCSP_REQUEST_BYTES) {
      LOG.debug("ocsp: POST body of {} bytes exceeds the maximum of {}", body.length,
          MAX_OCSP_REQUEST_BYTES);
      return null;
    }
    return body;
  }

  /**
   * Returns the request decoded from a GET path, or null when it is not URL-encoded base64.
   *
   * @throws NotFoundException if the path does not start with {@code /ocsp/}
   */
  private static byte[] urlRequest(String path) {
    if (!path.startsWith(OCSP_PATH + "/")) {
      throw new NotFoundException("ocsp", "no OCSP responder at " + printable(path)
          + "; GET requests to " + OCSP_PATH + "/{base64 request}");
    }
    String encoded = path.substring(OCSP_PATH.length() + 1);
    try {
      return decodeUrlRequest(encoded);
    } catch (IllegalArgumentException e) {
      LOG.debug("ocsp: GET path is not URL-encoded base64: {}", e.getMessage());
      return null;
    }
  }

  /**
   * Decodes the GET form of RFC 6960, appendix A.1: percent-decoding, then base64. A '+' in a
   * path is a plus sign, not a space as in a query string. The URL-safe base64 alphabet (RFC
   * 4648, 5) and missing padding are accepted as well.
   *
   * @throws IllegalArgumentException if the text is not percent-encoded base64
   */
  static byte[] decodeUrlRequest(String encoded) {
    String base64 = URLDecoder.decode(encoded.replace("+", "%2B"), StandardCharsets.UTF_8);
    return Base64.getDecoder().decode(base64.replace('-', '+').replace('_', '/'));
  }

  /**
   * Returns the undecoded path of a request URI: Vert.x's decoded, normalized path would turn
   * the "//" that base64 can contain into "/".
   */
  static String rawPath(String uri) {
    String path = uri == null ? "" : uri;
    int query = path.indexOf('?');
    if (query >= 0) {
      path = path.substring(0, query);
    }
    // An absolute-form request target (RFC 9112, 3.2.2) carries the scheme and authority.
    int scheme = path.indexOf("://");
    if (scheme >= 0 && !path.startsWith("/")) {
      int slash = path.indexOf('/', scheme + 3);
      path = slash < 0 ? "/" : path.substring(slash);
    }
    return path;
  }

  private static String printable(String text) {
    String shortened = text.length() > 64 ? text.substring(0, 64) + "..." : text;
    return shortened.replaceAll("[^\\x21-\\x7e]", "?");
  }

  /**
   * The current CRL of this node. Each request reads every revocation from the store, a query
   * whose cost grows with the number of revocations, and compares their fingerprint with the
   * one the cached CRL was signed for. A new CRL is signed when the fingerprint differs or half
   * of the CRL's validity has passed, so a client sees a revocation on its next download.
   *
   * <p>When the store cannot be reached, the cached CRL is served until its nextUpdate.
   *
   * <p>NOTE: every node caches its own CRL, so a client alternating between nodes may receive
   * an older CRL, with a lower CRL number, that is still valid.
   *
   * <p>Thread-safe: signing is serialized, and the revocations are read again inside the lock,
   * so that a slow reader cannot replace a newer CRL with one built from older revocations.
   */
  static final class CrlCache {

    private final CrlSigner signer;
    private final Supplier<List<Revocation>> revocations;
    private volatile SignedCrl current;
    /** Whether the last request was served from the cache because the store was unreachable. */
    private volatile boolean servingDuringOutage;

    CrlCache(CrlSigner signer, Supplier<List<Revocation>> revocations) {
      this.signer = signer;
      this.revocations = revocations;
    }

    /** A signed CRL in both encodings, with the fingerprint of the revocations it lists. */
    record SignedCrl(X509CRL crl, byte[] der, String pem, Fingerprint fingerprint) {}

    /**
     * A cheap summary of the revocations: count, newest revocation time, and an
     * order-independent sum of the entries' hash codes. Barring a hash collision, the sum also
     * changes when a backdated revocation is added or one is deleted and another inserted.
     */
    record Fingerprint(int count, Instant newest, int hashSum) {

      static Fingerprint of(List<Revocation> revocations) {
        Instant newest = null;
        int hashSum = 0;
        for (Revocation revocation : revocations) {
          if (newest == null || revocation.revokedAt().isAfter(newest)) {
            newest = revocation.revokedAt();
          }
          hashSum += revocation.hashCode();
        }
        return new Fingerprint(revocations.size(), newest, hashSum);
      }
    }

    /**
     * Returns the CRL to serve at {@code now}, signing a new one when needed.
     *
     * @throws UnavailableException if the store cannot be reached and no cached CRL is valid
     */
    SignedCrl current(Instant now) {
      Fingerprint fingerprint;
      try {
        fingerprint = Fingerprint.of(revocations.get());
      } catch (UnavailableException e) {
        return cachedDuringOutage(now, e);
      }
      if (servingDuringOutage) {
        servingDuringOutage = false;
        LOG.info("crl: the store can be reached again; no longer serving the cached CRL");
      }
      SignedCrl cached = current;
      if (isCurrent(cached, fingerprint, now)) {
        return cached;
      }
      synchronized (this) {
        List<Revocation> latest = revocations.get();
        cached = current;
        if (isCurrent(cached, Fingerprint.of(latest), now)) {
          return cached;
        }
        current = sign(latest, now);
        return current;
      }
    }

    private boolean isCurrent(SignedCrl cached, Fingerprint fingerprint, Instant now) {
      if (cached == null || !cached.fingerprint().equals(fingerprint)) {
        return false;
      }
      Instant halfLife = cached.crl().getThisUpdate().toInstant()
          .plus(signer.validity().dividedBy(2));
      return now.isBefore(halfLife);
    }

    private SignedCrl sign(List<Revocation> latest, Instant now) {
      X509CRL crl = signer.sign(latest, now);
      try {
        SignedCrl signed = new SignedCrl(crl, crl.getEncoded(), Pem.encode(crl),
            Fingerprint.of(latest));
        LOG.info("crl: signed a CRL with {} entries, valid until {}", latest.size(),
            crl.getNextUpdate().toInstant());
        return signed;
      } catch (CRLException e) {
        throw new IllegalStateException("crl: cannot encode the signed CRL", e);
      }
    }

    private SignedCrl cachedDuringOutage(Instant now, UnavailableException e) {
      SignedCrl cached = current;
      if (cached == null || !now.isBefore(cached.crl().getNextUpdate().toInstant())) {
        throw e;
      }
      // Logged once per outage: every request during an outage would repeat it.
      if (!servingDuringOutage) {
        servingDuringOutage = true;
        LOG.warn("crl: serving the cached CRL, valid until {}, while the store cannot be"
            + " reached: {}", cached.crl().getNextUpdate().toInstant(), e.getMessage());
      }
      return cached;
    }
  }
}
