package io.iidca.testkit.gcp;

import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import io.iidca.testkit.http.EmulatorServer;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An emulator of the Compute Engine metadata server for one instance, and of Google's key set
 * endpoint, on a local HTTP port. It signs identity tokens with RS256 and a test key generated
 * at start ({@link GcpTokenSigner}).
 *
 * <p>It implements what the Compute Engine pages "About VM metadata" and "Verifying the
 * identity of instances" describe for these paths, each under {@code /computeMetadata/v1/}:
 *
 * <ul>
 *   <li>{@code instance/service-accounts/default/identity?audience=A&format=F}: a new token
 *       for audience {@code A}; {@code format=full} adds the {@code google.compute_engine}
 *       claims, {@code standard} or none leaves them out, and {@code licenses=TRUE} adds
 *       {@code license_id}. A missing or empty audience gets 400.
 *   <li>{@code instance/id}, {@code instance/name}, {@code instance/hostname},
 *       {@code instance/zone} (as {@code projects/NUMBER/zones/ZONE}),
 *       {@code instance/service-accounts/default/email}, {@code project/project-id} and
 *       {@code project/numeric-project-id}.
 * </ul>
 *
 * <p>Metadata requests need the header {@code Metadata-Flavor: Google} and must not carry
 * {@code X-Forwarded-For}, else they get 403; every metadata response carries
 * {@code Metadata-Flavor: Google}. Outside the metadata tree, {@code /oauth2/v3/certs} serves
 * the public keys as a JSON Web Key Set with {@code Cache-Control: public, max-age=N}, so a CA
 * can be pointed at {@link #jwksUrl()}. Other paths get 404, other methods 405. Not emulated:
 * recursive and wait-for-change queries, access tokens, attributes, and the
 * {@code /computeMetadata/v1beta1/} tree.
 *
 * <p>It binds to 127.0.0.1 on a free port unless told otherwise, and never to the metadata
 * server's address 169.254.169.254 by default. Thread-safe; requests are served by a pool of
 * {@value EmulatorServer#THREADS} threads.
 */
public final class GcpMetadataEmulator implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(GcpMetadataEmulator.class);

  private final EmulatorServer server;
  private final GcpInstance instance;
  private final GcpTokenSigner signer;
  private final GcpMetadataHandler handler;
  private final Clock clock;
  private final URI endpoint;
  private boolean closed;

  private GcpMetadataEmulator(Builder builder) {
    this.instance = builder.instance != null
        ? builder.instance
        : GcpInstance.random(Builder.DEFAULT_PROJECT_ID, Builder.DEFAULT_ZONE);
    this.signer = new GcpTokenSigner();
    this.clock = builder.clock;
    this.handler = new GcpMetadataHandler(instance, signer, clock,
        builder.jwksMaxAge.toSeconds());
    this.server = EmulatorServer.start("gcp-metadata", builder.listen, handler);
    this.endpoint = server.endpoint();
    LOG.info("gcp-metadata: listening on {} (project {}, zone {}, instance {} {})", endpoint,
        instance.projectId(), instance.zone(), instance.instanceId(), instance.instanceName());
  }

  /** Returns a builder with the defaults: 127.0.0.1 on a free port, a random instance. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns the base URI, {@code http://host:port}, without a trailing slash. */
  public URI endpoint() {
    return endpoint;
  }

  /** Returns the value for {@code GCE_METADATA_HOST}: {@code host:port}. */
  public String metadataHost() {
    return endpoint.getRawAuthority();
  }

  /** Returns the URL of the emulated key set, {@code http://host:port/oauth2/v3/certs}. */
  public URI jwksUrl() {
    return endpoint.resolve(GcpMetadataHandler.JWKS);
  }

  public GcpInstance instance() {
    return instance;
  }

  /** Returns the signer, whose key a forging test may use under any header. */
  public GcpTokenSigner signer() {
    return signer;
  }

  /** Generates a new signing key; the key set lists it and the previous one. */
  public RSAKey rotateKey() {
    RSAKey key = signer.rotate();
    LOG.info("gcp-metadata: rotated the signing key to kid {}", key.getKeyID());
    return key;
  }

  /** Returns how many times the key set was requested. */
  public int jwksFetchCount() {
    return handler.jwksFetches();
  }

  /** Sets whether key set requests get HTTP 500. */
  public void failJwks(boolean fail) {
    handler.failJwks(fail);
  }

  /** Returns the claims the server would issue now for the audience, in the full format. */
  public JWTClaimsSet.Builder identityClaims(String audience) {
    return GcpTokenSigner.claims(instance, audience, clock.instant(), true, false);
  }

  /** Signs any claims with RS256 and the current key, as the identity path does. */
  public String sign(JWTClaimsSet claims) {
    return signer.sign(claims);
  }

  /** Signs any claims with the current key under any RSA header. */
  public String sign(JWSHeader header, JWTClaimsSet claims) {
    return signer.sign(header, claims);
  }

  /** Stops serving and closes every connection at once. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    server.stop();
    LOG.info("gcp-metadata: stopped on {}", endpoint);
  }

  /** Settings of an emulator. Not thread-safe; {@link #start()} may be called more than once. */
  public static final class Builder {

    static final String DEFAULT_PROJECT_ID = "iidca-test-project";
    static final String DEFAULT_ZONE = "us-central1-a";

    private InetSocketAddress listen = new InetSocketAddress("127.0.0.1", 0);
    private GcpInstance instance;
    private Duration jwksMaxAge = Duration.ofHours(6);
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /** Sets the address to bind; default 127.0.0.1 on a free port (port 0). */
    public Builder listen(InetSocketAddress address) {
      this.listen = Objects.requireNonNull(address, "address");
      return this;
    }

    /** Sets the instance; default a random one in project iidca-test-project, us-central1-a. */
    public Builder instance(GcpInstance instance) {
      this.instance = Objects.requireNonNull(instance, "instance");
      return this;
    }

    /** Sets the key set's {@code Cache-Control} max-age; default 6 hours. */
    public Builder jwksMaxAge(Duration maxAge) {
      this.jwksMaxAge = Objects.requireNonNull(maxAge, "maxAge");
      return this;
    }

    /** Sets the clock that tokens' {@code iat} is read from; default the system clock. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Generates the signing key and starts serving.
     *
     * @throws UncheckedIOException when the address cannot be bound
     */
    public GcpMetadataEmulator start() {
      return new GcpMetadataEmulator(this);
    }
  }
}
