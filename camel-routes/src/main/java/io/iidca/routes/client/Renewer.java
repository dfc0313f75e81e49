package io.iidca.routes.client;

import io.iidca.ca.io.AtomicFiles;
import io.iidca.ca.pki.KeyFiles;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.pki.Providers;
import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;

/**
 * Renews the certificate in one pair of files over mutual TLS, in steps that a one-shot command
 * and a daemon share: {@link #lock}, {@link #read}, {@link #request} (the network part) and
 * {@link #write} (the file part).
 *
 * <p>The CA side is {@code POST /1.0/renew}, which keeps the key, and {@code POST /1.0/rekey}
 * with a CSR signed by a new key of the same type (docs/protocol.md). The client presents the
 * certificate and its intermediate from the certificate file and the key from the key file.
 *
 * <p>Files: the certificate chain is replaced atomically with mode 0644. On rekey, the new key
 * is first written to {@code .KEY.new} (0600) beside the key file, then the chain replaces the
 * certificate file, then {@code .KEY.new} is renamed over the key file. Between the last two
 * renames the key file does not match the certificate. If the process dies there, the next
 * {@link #read} finds {@code .KEY.new} matching the certificate and completes the rename.
 * A {@code .KEY.lock} file beside the key file serializes renewals and iidca certificate's
 * enrollments ({@link EnrollmentFiles}) of the same files across processes. It stays in place,
 * empty.
 *
 * <p>Not checked here: whether the CA's certificate chains to the root, because the TLS
 * connection is pinned to that root. Thread-safe as long as callers hold {@link #lock} around
 * read, request and write, as the steps share no mutable state.
 */
public final class Renewer {

  /** How long to wait for the CA to accept a connection. */
  public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

  private static final SecureRandom RANDOM = new SecureRandom();
  /**
   * The lock file is opened without following a symbolic link, so that a link planted in its
   * place cannot make this process create or lock another file.
   */
  private static final Set<OpenOption> LOCK_FILE_OPTIONS = Set.of(StandardOpenOption.CREATE,
      StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);

  private final URI caUrl;
  private final X509Certificate root;
  private final Path certificateFile;
  private final Path keyFile;
  private final boolean rekey;
  private final Clock clock;
  private final Consumer<String> progress;

  /**
   * @param progress receives one line per completed step, such as the files written
   */
  public Renewer(URI caUrl, X509Certificate root, Path certificateFile, Path keyFile,
      boolean rekey, Clock clock, Consumer<String> progress) {
    this.caUrl = caUrl;
    this.root = root;
    this.certificateFile = certificateFile.toAbsolutePath();
    this.keyFile = keyFile.toAbsolutePath();
    this.rekey = rekey;
    this.clock = clock;
    this.progress = progress;
  }

  public Path certificateFile() {
    return certificateFile;
  }

  public Path keyFile() {
    return keyFile;
  }

  /** The certificate chain and key read from the files. */
  public record Held(List<X509Certificate> chain, PrivateKey key) {

    public X509Certificate certificate() {
      return chain.get(0);
    }
  }

  /**
   * A renewed certificate not yet written.
   *
   * @param newKeys the new key pair on rekey, null on renew
   * @param obtainedAt when the CA's response arrived
   */
  public record Renewal(X509Certificate previous, List<X509Certificate> chain, KeyPair newKeys,
      Instant obtainedAt) {

    public X509Certificate certificate() {
      return chain.get(0);
    }
  }

  /**
   * A renewal that the CA rejected or that could not reach it.
   *
   * @param status the HTTP status, or 0 when there was no response
   */
  public static final class RenewalException extends Exception implements CaRejection {

    private final int status;

    public RenewalException(int status, String message) {
      super(message);
      this.status = status;
    }

    public int status() {
      return status;
    }

    @Override
    public boolean rejectedByCa() {
      return CaRejection.isRejection(status);
    }
  }

  /** A held lock on the files; closing it releases the lock. */
  public interface Lock extends AutoCloseable {
    @Override
    void close() throws IOException;
  }

  /**
   * Takes the lock file beside the key file, waiting while another process holds it. The wait
   * ends with a {@link java.nio.channels.ClosedByInterruptException} when the thread is
   * interrupted.
   */
  public Lock lock() throws IOException {
    FileChannel channel = openLockFile(keyFile);
    try {
      channel.lock();
      // Closing the channel releases its lock; closing twice does nothing.
      return channel::close;
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /** Returns the lock file beside {@code keyFile}: {@link #lock} and iidca certificate take it. */
  static Path lockFile(Path keyFile) {
    return sibling(keyFile, ".lock");
  }

  /**
   * Takes the lock file beside {@code keyFile} if no one holds it, creating the file (0600) if
   * needed. A lock held by another thread of this JVM counts as held.
   *
   * @return the held lock, or null when another process or thread holds it
   */
  static Lock tryLock(Path keyFile) throws IOException {
    FileChannel channel = openLockFile(keyFile);
    try {
      if (channel.tryLock() != null) {
        return channel::close;
      }
    } catch (OverlappingFileLockException e) {
      // Held by another thread of this JVM.
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    channel.close();
    return null;
  }

  /**
   * Opens the lock file beside {@code keyFile}, creating it (0600) if needed.
   *
   * @throws FileSystemException naming the lock file when it is not a regular file
   */
  private static FileChannel openLockFile(Path keyFile) throws IOException {
    Path lockFile = lockFile(keyFile);
    // Checked before the open too, because opening a FIFO for writing blocks.
    requireRegularLockFile(lockFile);
    try {
      return FileChannel.open(lockFile, LOCK_FILE_OPTIONS,
          PosixFilePermissions.asFileAttribute(AtomicFiles.PRIVATE));
    } catch (IOException e) {
      requireRegularLockFile(lockFile);
      throw e;
    }
  }

  private static void requireRegularLockFile(Path lockFile) throws FileSystemException {
    String kind = lockFileKind(lockFile);
    if (kind != null) {
      throw new FileSystemException(lockFile.toString(), null, "is " + kind + ", but the lock"
          + " file must be a regular file: remove it, then run the command again");
    }
  }

  /**
   * Returns what is in place of the lock file when that is not a regular file: "a symbolic
   * link", "a directory" or "a special file", such as a FIFO. Returns null when the lock file
   * is a regular file or does not exist.
   */
  static String lockFileKind(Path lockFile) {
    if (Files.isSymbolicLink(lockFile)) {
      return "a symbolic link";
    }
    if (Files.isDirectory(lockFile, LinkOption.NOFOLLOW_LINKS)) {
      return "a directory";
    }
    if (Files.exists(lockFile, LinkOption.NOFOLLOW_LINKS)
        && !Files.isRegularFile(lockFile, LinkOption.NOFOLLOW_LINKS)) {
      return "a special file";
    }
    return null;
  }

  /** Reads the first certificate of the certificate file, for scheduling. */
  public X509Certificate readCertificate() throws IOException, GeneralSecurityException {
    return readChain().get(0);
  }

  /**
   * Reads the chain and the key, first completing a rekey that was interrupted between its
   * two renames, and checks that the key belongs to the certificate. Call it under
   * {@link #lock}.
   *
   * @throws GeneralSecurityException naming the files if they are not valid PEM or the key
   *     does not match the certificate
   */
  public Held read() throws IOException, GeneralSecurityException {
    List<X509Certificate> chain = readChain();
    X509Certificate leaf = chain.get(0);
    completeInterruptedRekey(leaf);
    PrivateKey key = KeyFiles.read(keyFile, null);
    if (!matches(key, leaf.getPublicKey())) {
      throw new GeneralSecurityException(keyFile + " does not match the certificate in "
          + certificateFile + " (serial " + serial(leaf) + "): pass the key file that was"
          + " written with this certificate");
    }
    return new Held(chain, key);
  }

  private List<X509Certificate> readChain() throws IOException, GeneralSecurityException {
    List<X509Certificate> chain;
    try {
      chain = Pem.readCertificates(certificateFile);
    } catch (CertificateException e) {
      throw new GeneralSecurityException(certificateFile + " contains no valid PEM certificate: "
          + e.getMessage() + "; enroll again with iidca certificate", e);
    }
    if (chain.size() < 2) {
      throw new GeneralSecurityException(certificateFile + " contains " + chain.size()
          + " certificate, expected the certificate and its intermediate as iidca certificate"
          + " writes them");
    }
    return chain;
  }

  private void completeInterruptedRekey(X509Certificate leaf)
      throws IOException, GeneralSecurityException {
    if (PendingKey.complete(keyFile, leaf, progress)) {
      progress.accept("Completed an interrupted rekey: " + keyFile);
    }
  }

  /**
   * Sends the renewal or rekey request over mutual TLS. This is the only step that talks to
   * the network and the only one worth abandoning: interrupting the thread ends it with an
   * {@link InterruptedException} and no file changed.
   *
   * @throws RenewalException with the CA's message when it rejects the request
   */
  public Renewal request(Held held)
      throws RenewalException, IOException, InterruptedException, GeneralSecurityException {
    X509Certificate leaf = held.certificate();
    CaClient client = new CaClient(caUrl, root, held.key(), held.chain(), CONNECT_TIMEOUT);
    KeyPair newKeys = null;
    CaClient.Response response;
    if (rekey) {
      KeySpec spec = keySpecOf(leaf.getPublicKey());
      newKeys = spec.generateWithInstalledProviders();
      String csr = CsrBuilder.build(newKeys, commonName(leaf), List.of());
      response = client.post("/1.0/rekey", Map.of("csr", csr));
    } else {
      response = client.post("/1.0/renew", Map.of());
    }
    Instant obtainedAt = clock.instant();
    if (response.status() != 201) {
      String requestId = response.body() == null ? ""
          : response.body().path("requestId").asText("");
      // NOTE: CaClient.Response carries no headers, so a 503's Retry-After is not read; the
      // caller's backoff applies instead.
      throw new RenewalException(response.status(), "the CA rejected the "
          + (rekey ? "rekey" : "renewal") + " of certificate " + serial(leaf) + " (HTTP "
          + response.status() + "): " + response.message()
          + (requestId.isEmpty() ? "" : " [request id " + requestId + "]"));
    }
    List<X509Certificate> chain = List.of(parse(response, "crt"), parse(response, "ca"));
    PublicKey expected = newKeys == null ? leaf.getPublicKey() : newKeys.getPublic();
    checkResponse(leaf, chain, expected);
    return new Renewal(leaf, chain, newKeys, obtainedAt);
  }

  private void checkResponse(X509Certificate old, List<X509Certificate> chain,
      PublicKey expectedKey) throws RenewalException {
    X509Certificate renewed = chain.get(0);
    if (!renewed.getPublicKey().equals(expectedKey)) {
      throw new RenewalException(201, "the CA returned certificate " + serial(renewed)
          + " for a different key than " + (rekey ? "the new one" : "the one in " + keyFile)
          + "; the files were left unchanged");
    }
    if (!renewed.getSubjectX500Principal().equals(old.getSubjectX500Principal())) {
      throw new RenewalException(201, "the CA returned certificate " + serial(renewed)
          + " for subject " + renewed.getSubjectX500Principal() + ", expected "
          + old.getSubjectX500Principal() + "; the files were left unchanged");
    }
    try {
      renewed.verify(chain.get(1).getPublicKey(), Providers.bouncyCastle());
    } catch (GeneralSecurityException e) {
      throw new RenewalException(201, "the CA returned certificate " + serial(renewed)
          + " that its intermediate did not sign; the files were left unchanged");
    }
  }

  /**
   * Writes the renewal: on rekey the key to {@code .KEY.new}, then the chain, then the key
   * into place. Each file is flushed to disk before its rename.
   */
  public void write(Renewal renewal) throws IOException {
    byte[] chain = Pem.encodeChain(renewal.chain()).getBytes(StandardCharsets.US_ASCII);
    if (renewal.newKeys() == null) {
      AtomicFiles.replace(certificateFile, chain, AtomicFiles.PUBLIC);
      progress.accept("Certificate: " + certificateFile);
      return;
    }
    Path pending = PendingKey.of(keyFile);
    KeyFiles.writePlain(pending, renewal.newKeys().getPrivate());
    try {
      AtomicFiles.replace(certificateFile, chain, AtomicFiles.PUBLIC);
    } catch (IOException | RuntimeException e) {
      // The old certificate is still in place and matches the old key.
      Files.deleteIfExists(pending);
      throw e;
    }
    progress.accept("Certificate: " + certificateFile);
    // A failure here leaves .KEY.new for read() to complete on the next run.
    PendingKey.install(certificateFile, keyFile);
    progress.accept("Private Key: " + keyFile);
  }

  /** Returns the hidden file {@code .NAME<suffix>} in the directory of {@code file}. */
  static Path sibling(Path file, String suffix) {
    return file.resolveSibling("." + file.getFileName() + suffix);
  }

  /** Returns the certificate's serial in lowercase hexadecimal, as the CA's messages show it. */
  public static String serial(X509Certificate certificate) {
    return certificate.getSerialNumber().toString(16);
  }

  /**
   * Returns whether the private key belongs to the public key, by signing random bytes and
   * verifying the signature.
   */
  public static boolean matches(PrivateKey key, PublicKey publicKey)
      throws GeneralSecurityException {
    return matches(key, publicKey, Providers.bouncyCastle());
  }

  /**
   * Checks the pair as {@link #matches(PrivateKey, PublicKey)} does, with {@code provider}'s
   * signatures. With a null provider, the installed providers sign and verify, and Bouncy
   * Castle does when none of them accepts the key.
   */
  static boolean matches(PrivateKey key, PublicKey publicKey, Provider provider)
      throws GeneralSecurityException {
    if (provider == null) {
      try {
        return signs(key, publicKey, null);
      } catch (InvalidKeyException e) {
        return signs(key, publicKey, Providers.bouncyCastle());
      }
    }
    return signs(key, publicKey, provider);
  }

  private static boolean signs(PrivateKey key, PublicKey publicKey, Provider provider)
      throws GeneralSecurityException {
    String algorithm = switch (publicKey.getAlgorithm()) {
      case "EC", "ECDSA" -> "SHA256withECDSA";
      case "RSA" -> "SHA256withRSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> throw new GeneralSecurityException("unsupported key type "
          + publicKey.getAlgorithm() + ": expected EC, RSA or Ed25519");
    };
    if (!sameType(key.getAlgorithm(), publicKey.getAlgorithm())) {
      return false;
    }
    byte[] challenge = new byte[32];
    RANDOM.nextBytes(challenge);
    Signature signer = newSignature(algorithm, provider);
    signer.initSign(key);
    signer.update(challenge);
    byte[] signature = signer.sign();
    Signature verifier = newSignature(algorithm, provider);
    verifier.initVerify(publicKey);
    verifier.update(challenge);
    return verifier.verify(signature);
  }

  /** Returns a {@link Signature} of {@code provider}, or of the installed ones when null. */
  private static Signature newSignature(String algorithm, Provider provider)
      throws GeneralSecurityException {
    if (provider == null) {
      return Signature.getInstance(algorithm);
    }
    return Signature.getInstance(algorithm, provider);
  }

  private static boolean sameType(String first, String second) {
    return family(first).equals(family(second));
  }

  private static String family(String algorithm) {
    return switch (algorithm) {
      case "EC", "ECDSA" -> "EC";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> algorithm;
    };
  }

  /**
   * Returns the key type of a public key, so that rekey generates the same type.
   *
   * @throws GeneralSecurityException for a key type or curve that iidca does not issue
   */
  static KeySpec keySpecOf(PublicKey key) throws GeneralSecurityException {
    try {
      if (key instanceof ECKey ec) {
        int bits = ec.getParams().getCurve().getField().getFieldSize();
        return KeySpec.of("EC", "P-" + bits, null);
      }
      if (key instanceof RSAKey rsa) {
        return KeySpec.of("RSA", null, rsa.getModulus().bitLength());
      }
      if (family(key.getAlgorithm()).equals("Ed25519")) {
        return KeySpec.of("OKP", "Ed25519", null);
      }
    } catch (IllegalArgumentException e) {
      throw new GeneralSecurityException("cannot rekey: " + e.getMessage(), e);
    }
    throw new GeneralSecurityException("cannot rekey a " + key.getAlgorithm()
        + " key: iidca issues EC, RSA and Ed25519 keys");
  }

  private static String commonName(X509Certificate certificate) {
    X500Name name = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
    RDN[] names = name.getRDNs(BCStyle.CN);
    return names.length == 0 ? "" : IETFUtils.valueToString(names[0].getFirst().getValue());
  }

  private static X509Certificate parse(CaClient.Response response, String field)
      throws RenewalException {
    String pem = response.body() == null ? "" : response.body().path(field).asText("");
    try {
      return Pem.parseCertificates(pem.getBytes(StandardCharsets.US_ASCII)).get(0);
    } catch (CertificateException | IllegalArgumentException e) {
      throw new RenewalException(201, "the CA's response has no valid certificate in field "
          + field + "; the files were left unchanged");
    }
  }
}
