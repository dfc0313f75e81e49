package io.iidca.testkit.aws;

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
 * An emulator of the EC2 instance metadata service (IMDS) for one instance, on a local HTTP
 * port, signing its instance identity document with an {@link AwsTestSigner}.
 *
 * <p>It implements what the AWS EC2 user guide pages "Use the Instance Metadata Service to access
 * instance metadata" and "Instance identity documents" describe for these paths:
 *
 * <ul>
 *   <li>{@code PUT /latest/api/token} with {@code X-aws-ec2-metadata-token-ttl-seconds} from 1 to
 *       21600 returns an IMDSv2 session token and echoes the TTL header. A missing or
 *       out-of-range TTL gets 400, a request with {@code X-Forwarded-For} gets 403. With {@link
 *       Builder#dropTokenPut} the request gets no response at all, which is what a client in a
 *       container gets from an instance whose PUT response hop limit is 1. The connection is
 *       closed after {@value #DROPPED_PUT_HOLD_SECONDS} s or when the emulator closes.
 *   <li>{@code GET} with {@code X-aws-ec2-metadata-token}: an unknown or expired token gets 401.
 *       Without the header (IMDSv1) the request passes unless {@link Builder#imdsV2Only} is set,
 *       which gets 401.
 *   <li>{@code /latest/dynamic/instance-identity/} {@code document}, {@code signature}, {@code
 *       rsa2048} and {@code pkcs7}, signed once at start, so every response has the same bytes.
 *   <li>{@code /latest/meta-data/} with {@code ami-id}, {@code hostname}, {@code instance-id},
 *       {@code instance-type}, {@code local-hostname}, {@code local-ipv4} and {@code
 *       placement/availability-zone} and {@code placement/region}.
 * </ul>
 *
 * <p>Other paths get 404, other methods 405. Every response is {@code text/plain}, the document
 * too, as EC2 serves it. Not emulated: date-versioned paths such as {@code /2021-07-15/}, IAM
 * credentials, user data, tags, the IPv6 endpoint, and the TTL header on {@code GET} responses.
 *
 * <p>It binds to 127.0.0.1 on a free port unless told otherwise, and never to 169.254.169.254 by
 * default. Thread-safe; requests are served by a pool of {@value EmulatorServer#THREADS} threads.
 */
public final class AwsMetadataEmulator implements AutoCloseable {

  /** How long a token {@code PUT} is held without a response under {@code dropTokenPut}. */
  public static final int DROPPED_PUT_HOLD_SECONDS = 30;

  private static final Logger LOG = LoggerFactory.getLogger(AwsMetadataEmulator.class);

  private final EmulatorServer server;
  private final HeldExchanges heldExchanges;
  private final AwsTestSigner signer;
  private final AwsInstance instance;
  private final URI endpoint;
  private boolean closed;

  private AwsMetadataEmulator(Builder builder) {
    this.signer = builder.signer != null ? builder.signer : AwsTestSigner.generate();
    this.instance = builder.instance != null
        ? builder.instance
        : AwsInstance.random(Builder.DEFAULT_ACCOUNT_ID, Builder.DEFAULT_REGION);
    MetadataTree tree = new MetadataTree(instance, signer);
    this.heldExchanges = builder.dropTokenPut
        ? new HeldExchanges(Duration.ofSeconds(DROPPED_PUT_HOLD_SECONDS))
        : null;
    ImdsHandler handler =
        new ImdsHandler(tree, new ImdsTokens(builder.clock), heldExchanges, builder.imdsV2Only);
    this.server = startServer(builder.listen, handler, heldExchanges);
    this.endpoint = server.endpoint();
    LOG.info("aws-imds: listening on {} (account {}, instance {}, region {}, imdsV2Only {}, "
            + "dropTokenPut {})", endpoint, instance.accountId(), instance.instanceId(),
        instance.region(), builder.imdsV2Only, builder.dropTokenPut);
  }

  /** Returns a builder with the defaults: 127.0.0.1 on a free port, IMDSv1 and v2 allowed. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns the base URI, {@code http://host:port}, without a trailing slash. */
  public URI endpoint() {
    return endpoint;
  }

  /** Returns the signer whose certificates verify this emulator's signatures. */
  public AwsTestSigner signer() {
    return signer;
  }

  /** Returns the emulated instance. */
  public AwsInstance instance() {
    return instance;
  }

  /** Returns how many token requests are held without a response now; for tests. */
  int heldRequestCount() {
    return heldExchanges == null ? 0 : heldExchanges.size();
  }

  /**
   * Stops serving: closes held connections without a response, closes every other connection at
   * once, and stops the threads. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (heldExchanges != null) {
      heldExchanges.close();
    }
    server.stop();
    LOG.info("aws-imds: stopped on {}", endpoint);
  }

  /** Starts the server, closing {@code heldExchanges} when the address cannot be bound. */
  private static EmulatorServer startServer(InetSocketAddress listen, ImdsHandler handler,
      HeldExchanges heldExchanges) {
    try {
      return EmulatorServer.start("aws-imds", listen, handler);
    } catch (UncheckedIOException e) {
      if (heldExchanges != null) {
        heldExchanges.close();
      }
      throw e;
    }
  }

  /** Settings of an emulator. Not thread-safe; {@link #start()} may be called more than once. */
  public static final class Builder {

    static final String DEFAULT_ACCOUNT_ID = "111122223333";
    static final String DEFAULT_REGION = "us-east-1";

    private InetSocketAddress listen = new InetSocketAddress("127.0.0.1", 0);
    private AwsTestSigner signer;
    private AwsInstance instance;
    private boolean imdsV2Only;
    private boolean dropTokenPut;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /** Sets the address to bind; default 127.0.0.1 on a free port (port 0). */
    public Builder listen(InetSocketAddress address) {
      this.listen = Objects.requireNonNull(address, "address");
      return this;
    }

    /** Sets the signer; default a freshly generated one. */
    public Builder signer(AwsTestSigner signer) {
      this.signer = Objects.requireNonNull(signer, "signer");
      return this;
    }

    /** Sets the instance; default a random one in account 111122223333, region us-east-1. */
    public Builder instance(AwsInstance instance) {
      this.instance = Objects.requireNonNull(instance, "instance");
      return this;
    }

    /** Sets whether requests without a token (IMDSv1) get 401; default false. */
    public Builder imdsV2Only(boolean imdsV2Only) {
      this.imdsV2Only = imdsV2Only;
      return this;
    }

    /** Sets whether token {@code PUT}s get no response at all; default false. */
    public Builder dropTokenPut(boolean dropTokenPut) {
      this.dropTokenPut = dropTokenPut;
      return this;
    }

    /** Sets the clock that token expiry is measured with; for tests. */
    Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Signs the document and starts serving.
     *
     * @throws UncheckedIOException when the address cannot be bound
     */
    public AwsMetadataEmulator start() {
      return new AwsMetadataEmulator(this);
    }
  }
}
