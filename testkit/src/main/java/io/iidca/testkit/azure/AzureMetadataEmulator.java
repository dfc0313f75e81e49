package io.iidca.testkit.azure;

import com.nimbusds.jwt.JWTClaimsSet;
import com.sun.net.httpserver.HttpExchange;
import io.iidca.testkit.http.EmulatorServer;
import io.iidca.testkit.http.HttpExchanges;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Date;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An emulator of the Azure Instance Metadata Service (IMDS) for one VM, and of its tenant's
 * login host, on one local HTTP port, signing with an {@link AzureTestSigner}.
 *
 * <p>IMDS paths, as "Azure Instance Metadata Service" and "How to use managed identities for
 * Azure resources on an Azure VM to acquire an access token" (learn.microsoft.com) describe them.
 * Each needs the header {@code Metadata: true} and an {@code api-version}; without them the
 * response is 400 with IMDS's {@code {"error": ...}} body. A request with {@code
 * X-Forwarded-For} gets 400 too, as IMDS rejects proxied requests.
 *
 * <ul>
 *   <li>{@code /metadata/identity/oauth2/token?resource=R}: a JSON token response ({@code
 *       access_token}, {@code expires_in}, {@code expires_on}, {@code resource}, {@code
 *       token_type} and others) with a v1 access token for audience R, valid 24 h.
 *   <li>{@code /metadata/attested/document?nonce=N}: {@code {"encoding":"pkcs7","signature":
 *       "..."}}, a PKCS#7 SignedData with the JSON content attached, signed without signed
 *       attributes by the test {@code metadata.azure.com} certificate, valid 6 h. Without a
 *       nonce, the expiry time as {@code yyyyMMdd-HHmmss} is used, the form of the nonces in
 *       real documents seen.
 *   <li>{@code /metadata/instance/compute}: {@code azEnvironment}, {@code location}, {@code
 *       name}, {@code resourceGroupName}, {@code resourceId}, {@code subscriptionId}, {@code
 *       vmId} and a few fixed fields; {@code /metadata/instance/compute/azEnvironment} with
 *       {@code format=text} returns the bare value.
 * </ul>
 *
 * <p>Login paths: {@code /<tenant>/.well-known/openid-configuration} (v1 form: issuer {@code
 * https://sts.windows.net/{tenantid}/}, jwks_uri on the host and port of the request's {@code
 * Host} header, so that an emulator listening on a wildcard address names its keys at the
 * address the CA used) and {@code
 * /common/discovery/keys}, the JWKS, with {@code Cache-Control: max-age=86400, private} as Entra
 * sends. Not emulated: instance network metadata, scheduled events, user-assigned identities,
 * {@code client_id}/{@code object_id} selection, and api-version validation beyond presence.
 *
 * <p>Binds 127.0.0.1 on a free port unless the builder names another address, and never
 * 169.254.169.254 by default.
 * Thread-safe.
 */
public final class AzureMetadataEmulator implements AutoCloseable {

  /** IMDS's timeStamp format in attested documents. */
  public static final DateTimeFormatter IMDS_TIME =
      DateTimeFormatter.ofPattern("MM/dd/yy HH:mm:ss '-0000'").withZone(ZoneOffset.UTC);
  public static final Duration TOKEN_LIFETIME = Duration.ofHours(24);
  public static final Duration DOCUMENT_LIFETIME = Duration.ofHours(6);

  private static final DateTimeFormatter NONCE_TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);
  private static final Pattern HOST_HEADER = Pattern.compile(
      "([A-Za-z0-9.-]{1,253}|\\[[0-9A-Fa-f:.]{2,45}\\])(:[0-9]{1,5})?");
  private static final Logger LOG = LoggerFactory.getLogger(AzureMetadataEmulator.class);

  private final EmulatorServer server;
  private final AzureTestSigner signer;
  private final AzureInstance instance;
  private final Clock clock;
  private final URI endpoint;
  private final AtomicInteger keyFetches = new AtomicInteger();
  private volatile boolean failKeyFetches;
  private volatile String keysCacheControl = "max-age=86400, private";
  private boolean closed;

  private AzureMetadataEmulator(Builder builder) {
    this.signer = builder.signer != null ? builder.signer : AzureTestSigner.generate();
    this.instance = builder.instance != null ? builder.instance
        : AzureInstance.random(UUID.randomUUID().toString(), UUID.randomUUID().toString());
    this.clock = builder.clock;
    this.server = EmulatorServer.start("azure-imds", builder.listen, this::handle);
    this.endpoint = server.endpoint();
    LOG.info("azure-imds: listening on {} (tenant {}, subscription {}, vm {} {})", endpoint,
        instance.tenantId(), instance.subscriptionId(), instance.vmName(), instance.vmId());
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Returns the base URI, {@code http://host:port}, without a trailing slash. */
  public URI endpoint() {
    return endpoint;
  }

  /** Returns the OpenID configuration URL of the tenant, for a provisioner's configuration. */
  public URI openIdConfigUrl() {
    return URI.create(endpoint + "/" + instance.tenantId() + "/.well-known/openid-configuration");
  }

  public AzureTestSigner signer() {
    return signer;
  }

  public AzureInstance instance() {
    return instance;
  }

  /** Returns how many times the JWKS was requested. */
  public int keyFetchCount() {
    return keyFetches.get();
  }

  /** Sets whether the OpenID configuration and JWKS requests get 500. */
  public void failKeyFetches(boolean fail) {
    this.failKeyFetches = fail;
  }

  /** Sets the JWKS's Cache-Control header, or none with null. */
  public void keysCacheControl(String value) {
    this.keysCacheControl = value;
  }

  /** Returns claims of the token that IMDS would issue now for {@code resource}. */
  public JWTClaimsSet.Builder tokenClaims(String resource) {
    Instant now = clock.instant();
    String issuer = "https://sts.windows.net/" + instance.tenantId() + "/";
    return new JWTClaimsSet.Builder()
        .audience(resource)
        .issuer(issuer)
        .issueTime(Date.from(now))
        .notBeforeTime(Date.from(now))
        .expirationTime(Date.from(now.plus(TOKEN_LIFETIME)))
        .claim("aio", "iidca-test")
        .claim("appid", instance.objectId())
        .claim("appidacr", "2")
        .claim("idp", issuer)
        .claim("oid", instance.objectId())
        .claim("rh", "iidca-test")
        .subject(instance.objectId())
        .claim("tid", instance.tenantId())
        .claim("uti", UUID.randomUUID().toString().replace("-", "").substring(0, 22))
        .claim("ver", "1.0")
        .claim("xms_mirid", instance.resourceId());
  }

  /** Returns the attested JSON content for {@code nonce} as of now, as IMDS writes it. */
  public String attestedContent(String nonce, AzureInstance vm) {
    Instant now = clock.instant();
    return "{\"licenseType\":\"\",\"nonce\":\"" + json(nonce) + "\",\"plan\":{\"name\":\"\","
        + "\"product\":\"\",\"publisher\":\"\"},\"sku\":\"22_04-lts-gen2\",\"subscriptionId\":\""
        + vm.subscriptionId() + "\",\"timeStamp\":{\"createdOn\":\"" + IMDS_TIME.format(now)
        + "\",\"expiresOn\":\"" + IMDS_TIME.format(now.plus(DOCUMENT_LIFETIME))
        + "\"},\"vmId\":\"" + vm.vmId() + "\"}";
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    server.stop();
    LOG.info("azure-imds: stopped on {}", endpoint);
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      Map<String, String> query =
          HttpExchanges.parseQuery(exchange.getRequestURI().getRawQuery());
      if (!"GET".equals(exchange.getRequestMethod())) {
        send(exchange, 405, "application/json", "{\"error\":\"Method not allowed\"}", null);
      } else if (path.startsWith("/metadata/")) {
        handleImds(exchange, path, query);
      } else if (path.equals("/" + instance.tenantId() + "/.well-known/openid-configuration")) {
        URI base = requestBase(exchange);
        handleKeys(exchange, "{\"issuer\":\"https://sts.windows.net/{tenantid}/\",\"jwks_uri\":\""
            + base + "/common/discovery/keys\",\"token_endpoint\":\"" + base + "/"
            + instance.tenantId() + "/oauth2/token\"}", false);
      } else if (path.equals("/common/discovery/keys")) {
        keyFetches.incrementAndGet();
        handleKeys(exchange, signer.jwks(), true);
      } else {
        send(exchange, 404, "application/json", "{\"error\":\"Not found\"}", null);
      }
    } catch (RuntimeException e) {
      LOG.warn("azure-imds: request {} failed: {}", exchange.getRequestURI().getPath(),
          e.toString());
      throw e;
    }
  }

  /**
   * Returns {@code http://} and the request's Host header, or the bound endpoint when the header
   * is missing or is not a plain host name or address with an optional port.
   */
  private URI requestBase(HttpExchange exchange) {
    String host = exchange.getRequestHeaders().getFirst("Host");
    if (host == null || !HOST_HEADER.matcher(host).matches()) {
      return endpoint;
    }
    return URI.create("http://" + host);
  }

  private void handleKeys(HttpExchange exchange, String body, boolean jwks) throws IOException {
    if (failKeyFetches) {
      send(exchange, 500, "application/json", "{\"error\":\"server_error\"}", null);
      return;
    }
    send(exchange, 200, "application/json", body, jwks ? keysCacheControl : "max-age=86400");
  }

  private void handleImds(HttpExchange exchange, String path, Map<String, String> query)
      throws IOException {
    String metadata = exchange.getRequestHeaders().getFirst("Metadata");
    if (exchange.getRequestHeaders().containsKey("X-Forwarded-For")) {
      imdsError(exchange, 400, "Bad request. X-Forwarded-For header is not allowed");
      return;
    }
    if (metadata == null || !metadata.equalsIgnoreCase("true")) {
      imdsError(exchange, 400, "Bad request. Required metadata header not specified");
      return;
    }
    if (!query.containsKey("api-version")) {
      imdsError(exchange, 400, "Bad request. api-version was not specified in the request."
          + " For more information refer to aka.ms/azureimds");
      return;
    }
    switch (path) {
      case "/metadata/identity/oauth2/token" -> token(exchange, query.get("resource"));
      case "/metadata/attested/document" -> attested(exchange, query.get("nonce"));
      case "/metadata/instance/compute" -> send(exchange, 200, "application/json",
          compute(), null);
      case "/metadata/instance/compute/azEnvironment" -> {
        boolean text = "text".equals(query.get("format"));
        send(exchange, 200, text ? "text/plain" : "application/json",
            text ? instance.environment() : "\"" + instance.environment() + "\"", null);
      }
      default -> imdsError(exchange, 404, "Not found");
    }
  }

  private void token(HttpExchange exchange, String resource) throws IOException {
    if (resource == null || resource.isEmpty()) {
      send(exchange, 400, "application/json", "{\"error\":\"invalid_request\","
          + "\"error_description\":\"Required query variable 'resource' is missing\"}", null);
      return;
    }
    Instant now = clock.instant();
    String token = signer.signToken(tokenClaims(resource).build());
    long expiresOn = now.plus(TOKEN_LIFETIME).getEpochSecond();
    send(exchange, 200, "application/json", "{\"access_token\":\"" + token + "\","
        + "\"client_id\":\"" + instance.objectId() + "\",\"expires_in\":\""
        + TOKEN_LIFETIME.toSeconds() + "\",\"expires_on\":\"" + expiresOn + "\","
        + "\"ext_expires_in\":\"" + TOKEN_LIFETIME.toSeconds() + "\",\"not_before\":\""
        + now.getEpochSecond() + "\",\"resource\":\"" + json(resource) + "\","
        + "\"token_type\":\"Bearer\"}", null);
  }

  private void attested(HttpExchange exchange, String nonce) throws IOException {
    String effective = nonce == null || nonce.isEmpty()
        ? NONCE_TIME.format(clock.instant().plus(DOCUMENT_LIFETIME)) : nonce;
    if (!effective.matches("[A-Za-z0-9-]{1,32}")) {
      imdsError(exchange, 400, "Bad request. Nonce must be at most 32 alphanumeric characters");
      return;
    }
    String signature = signer.signDocument(attestedContent(effective, instance));
    send(exchange, 200, "application/json", "{\"encoding\":\"pkcs7\",\"signature\":\""
        + signature + "\"}", null);
  }

  private String compute() {
    return "{\"azEnvironment\":\"" + instance.environment() + "\",\"location\":\""
        + instance.location() + "\",\"name\":\"" + instance.vmName() + "\",\"osType\":\"Linux\","
        + "\"resourceGroupName\":\"" + instance.resourceGroup() + "\",\"resourceId\":\""
        + instance.resourceId() + "\",\"subscriptionId\":\"" + instance.subscriptionId()
        + "\",\"vmId\":\"" + instance.vmId() + "\",\"vmSize\":\"Standard_B1s\"}";
  }

  private static void imdsError(HttpExchange exchange, int status, String message)
      throws IOException {
    send(exchange, status, "application/json", "{\"error\":\"" + message + "\"}", null);
  }

  private static void send(HttpExchange exchange, int status, String type, String body,
      String cacheControl) throws IOException {
    if (cacheControl != null) {
      exchange.getResponseHeaders().set("Cache-Control", cacheControl);
    }
    HttpExchanges.send(exchange, status, type + "; charset=utf-8", body);
  }

  /** Escapes a value for a JSON string. */
  private static String json(String value) {
    StringBuilder out = new StringBuilder();
    for (char c : value.toCharArray()) {
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  /** Settings of an emulator. Not thread-safe. */
  public static final class Builder {

    private InetSocketAddress listen = new InetSocketAddress("127.0.0.1", 0);
    private AzureTestSigner signer;
    private AzureInstance instance;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /** Sets the address to bind; default 127.0.0.1 on a free port. */
    public Builder listen(InetSocketAddress address) {
      this.listen = Objects.requireNonNull(address, "address");
      return this;
    }

    /** Sets the signer; default a freshly generated one. */
    public Builder signer(AzureTestSigner signer) {
      this.signer = Objects.requireNonNull(signer, "signer");
      return this;
    }

    /** Sets the VM; default a random one in a random tenant and subscription. */
    public Builder instance(AzureInstance instance) {
      this.instance = Objects.requireNonNull(instance, "instance");
      return this;
    }

    /** Sets the clock of token and document times; default the system clock. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Starts serving.
     *
     * @throws UncheckedIOException when the address cannot be bound
     */
    public AzureMetadataEmulator start() {
      return new AzureMetadataEmulator(this);
    }
  }
}
