package io.iidca.routes.client;

import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.Pem;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * The state and steps of one client enrollment; each public method but {@link #connect()} is
 * one step of the {@code enroll} route. The provisioner's type decides what proves the
 * instance: AWS's signed document in a token iidca's client builds, GCP's identity token (its
 * audience bound to the new key), or Azure's managed-identity token with an attested document
 * over a CA nonce. The files are checked before the CA is contacted and prepared before the
 * sign request, as {@link EnrollmentFiles} describes. Closing the enrollment deletes what it
 * prepared and did not write. Not thread-safe: one instance per enrollment.
 */
public final class ClientEnrollment implements AutoCloseable {

  private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(2);
  /**
   * The timeout of each request of a read on a cloud hint. A metadata service responds within
   * milliseconds, and a wrong guess at a service that never responds must not hold up the
   * enrollment. A failed early read is done again with {@link #METADATA_TIMEOUT}.
   */
  private static final Duration EARLY_METADATA_TIMEOUT = Duration.ofMillis(300);
  private static final Duration CA_TIMEOUT = Duration.ofSeconds(10);
  /** The waits before the sign request is sent again, one per repeat. */
  static final List<Duration> REPEAT_WAITS = List.of(Duration.ofSeconds(2),
      Duration.ofSeconds(5));
  /** Statuses after which the sign request is sent again: the CA or a proxy was unavailable. */
  private static final Set<Integer> REPEATED_STATUSES = Set.of(502, 503, 504);

  private final EnrollmentRequest request;
  private final EnrollmentFiles files;
  /** The client for the CA and the provisioner's type, made in the background by connect. */
  private FutureTask<Connection> connecting;
  /** The CA's client, set once {@link #connect()} has named the type. */
  private CaClient client;
  /** The type the request is built for: the hint until {@link #client} is set, then the CA's. */
  private String type;
  /** Set when reading the identity of the hinted type failed. */
  private boolean earlyReadFailed;
  private URI endpoint;
  private AwsMetadataClient.SignedDocument document;
  /** The GCP or Azure token, as the metadata service returned it. */
  private String cloudToken;
  private String attestedDocument;
  private KeyPair keys;
  private String csr;
  /** The JSON body of the sign request. */
  private byte[] signRequest;
  private EnrollmentResult result;

  public ClientEnrollment(EnrollmentRequest request) {
    this.request = request;
    this.files = new EnrollmentFiles(request.certificateFile(), request.keyFile(),
        request.force(), request.progress());
  }

  public EnrollmentRequest request() {
    return request;
  }

  public EnrollmentResult result() {
    return result;
  }

  /**
   * Checks the files as {@link EnrollmentFiles#check} does, then starts on a background thread
   * what needs only the request: the client for the CA and, unless the request names it, the
   * provisioner's type from the CA's {@code GET /provisioners}. In a new JVM, that TLS
   * handshake is mostly class loading and interpreted code, so it runs on the other core while
   * the route's context starts, the key and CSR are made and, with a cloud hint, the identity
   * is read.
   * {@link #generateKey()} calls this first when no one has, and {@link #fetchIdentity()} or,
   * with a cloud hint, {@link #post()} waits for it.
   *
   * @throws FileAlreadyExistsException if a file exists and the request does not force
   * @throws EnrollmentException naming the path and the fix if a file cannot be written there
   */
  public void connect() throws IOException, EnrollmentException {
    if (connecting != null) {
      return;
    }
    files.check();
    connecting = new FutureTask<>(() -> {
      CaClient ca = currentCertificateClient();
      if (ca == null) {
        ca = new CaClient(request.caUrl(), request.root(), CA_TIMEOUT);
      }
      return new Connection(ca, request.provisionerType() != null
          ? request.provisionerType() : lookUpType(ca));
    });
    Thread thread = new Thread(connecting, "iidca-connect");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Step generate-key: generates the key and its CSR while {@link #connect()} runs, and
   * prepares the files with {@link EnrollmentFiles#prepare}. The key comes first because a GCP
   * token's audience carries its digest.
   */
  public void generateKey() throws IOException, EnrollmentException {
    connect();
    keys = request.keySpec().generateWithInstalledProviders();
    files.prepare(keys.getPrivate());
    csr = CsrBuilder.build(keys, request.subject(), names());
  }

  /**
   * Step fetch-iid: reads the instance's identity from the metadata service. When the request's
   * cloud hint names AWS or GCP, that cloud's identity is read without waiting for
   * {@link #connect()}, with {@link #EARLY_METADATA_TIMEOUT} and no IMDSv1 fallback, and
   * {@link #post()} checks the guess against the CA's type. Without such a hint, the step waits
   * for the CA to name the type first. Azure's attested document always waits, because it
   * needs a nonce from the CA.
   */
  public void fetchIdentity() throws Exception {
    String hint = request.cloudHint();
    if (ProvisionerConfig.TYPE_AWS.equals(hint) || ProvisionerConfig.TYPE_GCP.equals(hint)) {
      type = hint;
      try {
        readIdentity(hint, EARLY_METADATA_TIMEOUT, false);
      } catch (InterruptedException e) {
        throw e;
      } catch (Exception e) {
        // Not reported: confirmType reads again with the usual timeouts if the CA names this
        // type, and that read's failure is the one reported.
        earlyReadFailed = true;
      }
    } else {
      confirmType();
    }
  }

  /**
   * Waits for {@link #connect()} and takes the CA's type. Reads that cloud's identity unless
   * {@link #fetchIdentity()} has read it for the same type.
   */
  private void confirmType() throws Exception {
    Connection connection = connected();
    String guessed = type;
    client = connection.client();
    type = connection.type();
    if (!type.equals(guessed) || earlyReadFailed) {
      document = null;
      cloudToken = null;
      signRequest = null;
      earlyReadFailed = false;
      readIdentity(type, METADATA_TIMEOUT, true);
    }
    request.progress().accept((switch (type) {
      case ProvisionerConfig.TYPE_GCP -> "Instance identity token: ";
      case ProvisionerConfig.TYPE_AZURE -> "Managed identity token and attested document: ";
      default -> "Instance identity document: ";
    }) + endpoint);
  }

  /**
   * Reads the identity of a provisioner of {@code cloud} from its metadata service, each
   * request within {@code timeout}. {@code imdsV1Fallback} applies to AWS only.
   */
  private void readIdentity(String cloud, Duration timeout, boolean imdsV1Fallback)
      throws Exception {
    try {
      endpoint = MetadataEndpoints.resolve(cloud, request.metadataEndpoint(),
          request.variables());
    } catch (IllegalArgumentException e) {
      throw new EnrollmentException(e.getMessage());
    }
    switch (cloud) {
      case ProvisionerConfig.TYPE_GCP -> cloudToken = new GcpMetadataClient(endpoint,
          timeout).fetchIdentityToken(GcpMetadataClient.boundAudience(
              request.caUrl().toString(), request.provisioner(), keys.getPublic()));
      case ProvisionerConfig.TYPE_AZURE -> fetchAzure(endpoint);
      default -> document = new AwsMetadataClient(endpoint, timeout).fetch(imdsV1Fallback);
    }
  }

  /** Waits for {@link #connect()} and throws its failure as it was thrown. */
  private Connection connected() throws Exception {
    try {
      return connecting.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw e;
    }
  }

  /**
   * Reads the provisioner's type from the CA's {@code GET /provisioners}.
   *
   * @throws EnrollmentException if the CA has no provisioner of that name
   */
  private String lookUpType(CaClient ca) throws Exception {
    CaClient.Response response = ca.get("/provisioners");
    if (response.status() != 200 || response.body() == null) {
      throw new EnrollmentException("the CA did not list its provisioners (HTTP "
          + response.status() + "): " + response.message());
    }
    List<String> names = new ArrayList<>();
    for (var provisioner : response.body().path("provisioners")) {
      String name = provisioner.path("name").asText("");
      if (name.equals(request.provisioner())) {
        return ProvisionerConfig.normalizeType(provisioner.path("type").asText(""));
      }
      names.add(name);
    }
    throw new EnrollmentException("the CA has no provisioner named '" + request.provisioner()
        + "'; its provisioners are " + names, true);
  }

  /** Asks the CA for a nonce, then the metadata service for the attested document and token. */
  private void fetchAzure(URI endpoint) throws Exception {
    CaClient.Response response = client.post("/1.0/azure/nonce",
        Map.of("provisioner", request.provisioner()));
    if (response.status() != 201 || !response.body().hasNonNull("nonce")) {
      throw new EnrollmentException("the CA gave no nonce for provisioner '"
          + request.provisioner() + "' (HTTP " + response.status() + "): "
          + response.message());
    }
    AzureMetadataClient azure = new AzureMetadataClient(endpoint, METADATA_TIMEOUT);
    attestedDocument = azure.attestedDocument(response.body().get("nonce").asText());
    cloudToken = azure.token(AzureMetadataClient.resourceFor(azure.environment()));
  }

  /** Returns the subject, then the extra names that differ from it, in the order given. */
  private List<String> names() {
    List<String> names = new ArrayList<>();
    names.add(request.subject());
    for (String san : request.sans()) {
      if (!names.contains(san)) {
        names.add(san);
      }
    }
    return names;
  }

  /**
   * Step build-request: the token and the request's body. With a cloud hint this runs before
   * the CA has named the type, while the TLS handshake runs on the other thread. A failed early
   * read leaves the request to {@link #post()}.
   */
  public void buildRequest() throws IOException {
    if (earlyReadFailed) {
      return;
    }
    String token = type.equals(ProvisionerConfig.TYPE_AWS)
        ? AwsTokenBuilder.build(request.caUrl().toString(), request.provisioner(),
            request.subject(), names(), document.document(), document.rsa2048(), Instant.now())
        : cloudToken;
    Map<String, String> body = new LinkedHashMap<>();
    body.put("csr", csr);
    body.put("ott", token);
    if (type.equals(ProvisionerConfig.TYPE_AZURE)) {
      body.put("provisioner", request.provisioner());
      body.put("attestedDocument", attestedDocument);
    }
    signRequest = StreamingJson.write(body);
  }

  /**
   * Step post: sends the request to the CA over pinned TLS, after the CA has named the
   * provisioner's type. When it names another type than the hint, the identity and the request
   * are made again for that type. When files are replaced with {@code --force} and they hold a
   * certificate that is still valid, it is presented over mutual TLS, which lets a registered
   * instance enroll again with a fresh identity document.
   */
  public void post() throws Exception {
    if (client == null) {
      confirmType();
    }
    if (signRequest == null) {
      buildRequest();
    }
    CaClient.Response response = sendSignRequest();
    if (response.status() != 201) {
      String requestId = response.body() == null ? ""
          : response.body().path("requestId").asText("");
      throw new EnrollmentException("the CA rejected the request (HTTP " + response.status()
          + "): " + response.message()
          + (requestId.isEmpty() ? "" : " [request id " + requestId + "]"),
          CaRejection.isRejection(response.status()));
    }
    X509Certificate leaf = parse(response.body().path("crt").asText(""));
    List<X509Certificate> chain = new ArrayList<>();
    chain.add(leaf);
    chain.add(parse(response.body().path("ca").asText("")));
    result = new EnrollmentResult(leaf, chain);
  }

  /**
   * Sends the sign request, and sends the same body again after each wait of
   * {@link #REPEAT_WAITS} while the response is lost or a 502, 503 or 504. For a repeat of a
   * request that it recorded, the CA returns the same certificate, so a lost response does not
   * use up an instance's one enrollment. Each attempt signs a new possession token, whose id is
   * single-use. An Azure request is sent once, because the CA consumes its nonce before it
   * records anything.
   */
  private CaClient.Response sendSignRequest() throws IOException, InterruptedException {
    int repeats = type.equals(ProvisionerConfig.TYPE_AZURE) ? 0 : REPEAT_WAITS.size();
    for (int attempt = 0; ; attempt++) {
      String failure;
      try {
        CaClient.Response response = client.post("/1.0/sign", signRequest);
        if (!REPEATED_STATUSES.contains(response.status()) || attempt == repeats) {
          return response;
        }
        failure = "the CA returned HTTP " + response.status() + ": " + response.message();
      } catch (CaClient.ResponseLostException e) {
        if (attempt == repeats) {
          throw e;
        }
        failure = e.getMessage();
      }
      Duration wait = REPEAT_WAITS.get(attempt);
      request.progress().accept("Sending the sign request again in " + wait.toSeconds()
          + " s, because " + failure);
      Thread.sleep(wait.toMillis());
    }
  }

  private CaClient currentCertificateClient() throws java.security.GeneralSecurityException {
    if (!request.force() || !Files.exists(request.certificateFile())
        || !Files.exists(request.keyFile())) {
      return null;
    }
    try {
      List<X509Certificate> chain = Pem.readCertificates(request.certificateFile());
      chain.get(0).checkValidity();
      PrivateKey key = ClientKeys.read(request.keyFile());
      // Checks with the JDK's providers, which the handshake loads anyway. A check with Bouncy
      // Castle added 0.13 s to the client's start (median of 25 runs).
      if (!Renewer.matches(key, chain.get(0).getPublicKey(), null)) {
        // Presented over TLS, the pair fails the handshake, whose message blames the CA.
        request.progress().accept("Not presenting " + request.certificateFile() + ": "
            + request.keyFile() + " is not its key");
        return null;
      }
      return new CaClient(request.caUrl(), request.root(), key, chain, CA_TIMEOUT);
    } catch (IOException | java.security.GeneralSecurityException | RuntimeException e) {
      // Files that do not hold a current certificate and its key are replaced all the same.
      return null;
    }
  }

  /**
   * Step write: the certificate chain (0644) over the certificate file, then the key (0600)
   * over the key file, as {@link EnrollmentFiles#install} does.
   */
  public void write() throws IOException {
    files.install(result.chain());
    request.progress().accept("Certificate: " + request.certificateFile());
    request.progress().accept("Private Key: " + request.keyFile());
  }

  /** Deletes the temporary files of an enrollment that failed before {@link #write()}. */
  @Override
  public void close() throws IOException {
    files.close();
  }

  private static X509Certificate parse(String pem) throws EnrollmentException {
    try {
      return Pem.parseCertificates(pem.getBytes(StandardCharsets.US_ASCII)).get(0);
    } catch (CertificateException | IllegalArgumentException e) {
      throw new EnrollmentException("the CA's response holds no valid certificate");
    }
  }

  private record Connection(CaClient client, String type) {}

  /** An enrollment that failed for a reason the user can act on. */
  public static final class EnrollmentException extends Exception implements CaRejection {

    private final boolean rejectedByCa;

    public EnrollmentException(String message) {
      this(message, false);
    }

    /**
     * @param rejectedByCa whether the CA responded and rejected the request, so that a retry
     *     gets the same response ({@link CaRejection})
     */
    public EnrollmentException(String message, boolean rejectedByCa) {
      super(message);
      this.rejectedByCa = rejectedByCa;
    }

    @Override
    public boolean rejectedByCa() {
      return rejectedByCa;
    }
  }
}
