package io.iidca.routes.client;

import io.iidca.ca.io.AtomicFiles;
import io.iidca.ca.pki.KeyFiles;
import io.iidca.ca.pki.Pem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The state and steps of one client enrollment; each public method is one step of the
 * {@code enroll} route. Not thread-safe: one instance per enrollment.
 */
public final class ClientEnrollment {

  private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(2);

  private final EnrollmentRequest request;
  private AwsMetadataClient.SignedDocument document;
  private KeyPair keys;
  private Map<String, Object> signRequest;
  private EnrollmentResult result;

  public ClientEnrollment(EnrollmentRequest request) {
    this.request = request;
  }

  public EnrollmentRequest request() {
    return request;
  }

  public EnrollmentResult result() {
    return result;
  }

  /** Step fetch-iid: refuses to overwrite files, then reads the signed document. */
  public void fetchIdentity() throws IOException, InterruptedException {
    if (!request.force()) {
      for (Path path : List.of(request.certificateFile(), request.keyFile())) {
        if (Files.exists(path)) {
          throw new FileAlreadyExistsException(path.toString(), null,
              "file exists; pass --force to replace it");
        }
      }
    }
    document = new AwsMetadataClient(request.metadataEndpoint(), METADATA_TIMEOUT).fetch();
    request.progress().accept("Instance identity document: " + request.metadataEndpoint());
  }

  /** Step build-request: key, CSR and token. */
  public void buildRequest() {
    keys = request.keySpec().generate();
    List<String> names = new ArrayList<>();
    names.add(request.subject());
    for (String san : request.sans()) {
      if (!names.contains(san)) {
        names.add(san);
      }
    }
    String csr = CsrBuilder.build(keys, request.subject(), names);
    String token = AwsTokenBuilder.build(request.caUrl().toString(), request.provisioner(),
        request.subject(), names, document.document(), document.rsa2048(), Instant.now());
    signRequest = new LinkedHashMap<>();
    signRequest.put("csr", csr);
    signRequest.put("ott", token);
  }

  /**
   * Step post: sends the request to the CA over pinned TLS. When files are replaced with
   * {@code --force} and they hold a certificate that is still valid, it is presented over
   * mutual TLS, which lets a registered instance enroll again with a fresh identity document.
   */
  public void post() throws Exception {
    CaClient client = currentCertificateClient();
    if (client == null) {
      client = new CaClient(request.caUrl(), request.root(), Duration.ofSeconds(10));
    }
    CaClient.Response response = client.post("/1.0/sign", signRequest);
    if (response.status() != 201) {
      String requestId = response.body() == null ? ""
          : response.body().path("requestId").asText("");
      throw new EnrollmentException("the CA rejected the request (HTTP " + response.status()
          + "): " + response.message()
          + (requestId.isEmpty() ? "" : " [request id " + requestId + "]"));
    }
    X509Certificate leaf = parse(response.body().path("crt").asText(""));
    List<X509Certificate> chain = new ArrayList<>();
    chain.add(leaf);
    chain.add(parse(response.body().path("ca").asText("")));
    result = new EnrollmentResult(leaf, chain);
  }

  private CaClient currentCertificateClient() throws java.security.GeneralSecurityException {
    if (!request.force() || !Files.exists(request.certificateFile())
        || !Files.exists(request.keyFile())) {
      return null;
    }
    try {
      List<X509Certificate> chain = Pem.readCertificates(request.certificateFile());
      chain.get(0).checkValidity();
      return new CaClient(request.caUrl(), request.root(),
          KeyFiles.read(request.keyFile(), null), chain, Duration.ofSeconds(10));
    } catch (IOException | java.security.GeneralSecurityException | RuntimeException e) {
      // Files that do not hold a current certificate and its key are replaced all the same.
      return null;
    }
  }

  /** Step write: the key (0600), then the certificate chain (0644), each atomically. */
  public void write() throws IOException {
    Path keyTemp = temporarySibling(request.keyFile());
    try {
      KeyFiles.writePlain(keyTemp, keys.getPrivate());
      AtomicFiles.write(request.certificateFile(),
          Pem.encodeChain(result.chain()).getBytes(StandardCharsets.US_ASCII),
          AtomicFiles.PUBLIC);
      Files.move(keyTemp, request.keyFile(), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(keyTemp);
    }
    request.progress().accept("Certificate: " + request.certificateFile());
    request.progress().accept("Private Key: " + request.keyFile());
  }

  private static Path temporarySibling(Path file) {
    Path absolute = file.toAbsolutePath();
    return absolute.resolveSibling("." + absolute.getFileName() + ".new");
  }

  private static X509Certificate parse(String pem) throws EnrollmentException {
    try {
      return Pem.parseCertificates(pem.getBytes(StandardCharsets.US_ASCII)).get(0);
    } catch (CertificateException | IllegalArgumentException e) {
      throw new EnrollmentException("the CA's response holds no valid certificate");
    }
  }

  /** An enrollment that failed for a reason the user can act on. */
  public static final class EnrollmentException extends Exception {
    public EnrollmentException(String message) {
      super(message);
    }
  }
}
