package io.iidca.routes.client;

import io.iidca.ca.io.AtomicFiles;
import io.iidca.ca.pki.KeyFiles;
import io.iidca.ca.pki.Pem;
import io.iidca.routes.client.ClientEnrollment.EnrollmentException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * The certificate file and the key file of one enrollment, prepared before the CA is asked for
 * a certificate, because under trust on first use an instance enrolls once and a certificate
 * that cannot be written is lost.
 *
 * <p>{@link #check} rejects two paths that name one file, a parent that is not a directory, a
 * target that is a directory, and existing files without {@code force}. Then it takes the lock
 * file {@code .KEY.lock} that iidca renew takes, creating the key's directory if needed, and
 * holds it until {@link #close}. Under the lock it completes a replacement that an earlier run
 * left between its two renames, and rejects existing files without {@code force} again, and
 * existing files that cannot be replaced. {@link #prepare} then writes the new key to
 * {@code .KEY.new} (see {@link PendingKey}) and reserves {@value #RESERVED_BYTES} bytes for
 * the certificate chain's temporary file, each flushed to disk, so that a directory that cannot
 * be written or a full disk fails before the request. {@link #install} replaces the
 * certificate file, then the key file. Not checked: space that other processes take between
 * {@link #prepare} and {@link #install}, and a chain longer than the reservation.
 *
 * <p>Not thread-safe: one instance per enrollment.
 */
public final class EnrollmentFiles implements AutoCloseable {

  /**
   * The bytes reserved for the certificate chain. A PEM leaf and intermediate take about 2 KiB
   * with EC keys and 4 KiB with RSA 4096 keys (an estimate), and each SAN adds a few bytes.
   */
  static final int RESERVED_BYTES = 16 * 1024;

  /**
   * How long to wait for the lock file. A renewal holds it for well under a second when the CA
   * responds at once, and for about 100 s when the CA is slow: 10 s to connect, 30 s for the
   * response and up to 60 s of waits after 429 responses.
   */
  static final Duration LOCK_PATIENCE = Duration.ofSeconds(120);
  private static final Duration LOCK_POLL = Duration.ofMillis(100);

  private final Path certificateFile;
  private final Path keyFile;
  private final boolean force;
  private final Consumer<String> progress;
  private final Duration lockPatience;
  /** The lock file, held from {@link #check} to {@link #close}. */
  private Renewer.Lock lock;
  private AtomicFiles.Reservation certificate;
  /** Whether the certificate file is replaced, after which the pending key is kept. */
  private boolean certificateInstalled;

  EnrollmentFiles(Path certificateFile, Path keyFile, boolean force,
      Consumer<String> progress) {
    this(certificateFile, keyFile, force, progress, LOCK_PATIENCE);
  }

  /** @param lockPatience how long {@link #check} waits for another holder of the lock file */
  EnrollmentFiles(Path certificateFile, Path keyFile, boolean force,
      Consumer<String> progress, Duration lockPatience) {
    this.certificateFile = certificateFile.toAbsolutePath();
    this.keyFile = keyFile.toAbsolutePath();
    this.force = force;
    this.progress = progress;
    this.lockPatience = lockPatience;
  }

  /**
   * Returns whether the two paths name the same file: the same absolute, normalized path once
   * symbolic links in the path, and the file itself if it exists, are resolved.
   */
  public static boolean sameFile(Path first, Path second) {
    return realPath(first).equals(realPath(second));
  }

  /**
   * Returns the path with symbolic links resolved: of the file if it exists, else of its
   * parent directory if that exists, else the absolute, normalized path.
   */
  public static Path realPath(Path file) {
    Path absolute = file.toAbsolutePath().normalize();
    try {
      return absolute.toRealPath();
    } catch (IOException e) {
      // A file that does not exist yet, or a dangling link, which a rename replaces.
    }
    Path parent = absolute.getParent();
    try {
      return parent == null ? absolute : parent.toRealPath().resolve(absolute.getFileName());
    } catch (IOException e) {
      return absolute;
    }
  }

  /** Returns the reason of an I/O failure in words, without the name of a temporary file. */
  static String describe(IOException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof NoSuchFileException) {
      return "no such file or directory";
    }
    if (e instanceof FileSystemException failure && failure.getReason() != null) {
      return failure.getReason();
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /**
   * Checks the paths and takes the lock file, then completes a replacement that an earlier run
   * left between its two renames. Writes nothing else.
   *
   * @throws FileAlreadyExistsException if a file exists and {@code force} is not set
   * @throws EnrollmentException naming the path, the reason and the fix otherwise
   */
  void check() throws IOException, EnrollmentException {
    if (sameFile(certificateFile, keyFile)) {
      throw new EnrollmentException("the certificate file and the key file are the same file, "
          + realPath(certificateFile) + ": pass a different path for each");
    }
    for (Path path : List.of(certificateFile, keyFile)) {
      checkNotPresent(path);
      checkParent(path);
      if (Files.isDirectory(path)) {
        throw unwritable(path, "it is a directory", "pass the path of a file");
      }
    }
    lock();
    completeEarlierRun();
    for (Path path : List.of(certificateFile, keyFile)) {
      // Again under the lock: another enrollment may have written the files meanwhile.
      checkNotPresent(path);
      checkReplaceable(path);
    }
  }

  private void checkNotPresent(Path path) throws FileAlreadyExistsException {
    if (!force && Files.exists(path)) {
      throw new FileAlreadyExistsException(path.toString(), null,
          "file exists; pass --force to replace it");
    }
  }

  /**
   * Takes the lock file that iidca renew takes ({@link Renewer#lock}), creating the key's
   * directory if needed, so that a renewal or another enrollment of the same files neither
   * reads them half replaced nor deletes this enrollment's pending key. Waits at most
   * {@link #lockPatience} for another holder.
   */
  private void lock() throws EnrollmentException, IOException {
    Path lockFile = Renewer.lockFile(keyFile);
    long deadline = System.nanoTime() + lockPatience.toNanos();
    boolean announced = false;
    while (true) {
      createKeyDirectory();
      try {
        lock = Renewer.tryLock(keyFile);
      } catch (IOException e) {
        throw lockFailure(lockFile, e);
      }
      if (lock != null) {
        return;
      }
      if (System.nanoTime() - deadline >= 0) {
        throw new EnrollmentException("timed out after " + lockPatience.toSeconds()
            + " s waiting for " + lockFile + ", which another process such as iidca renew"
            + " holds while it writes " + keyFile + ". The CA was not asked for a certificate:"
            + " wait until that process ends (fuser -v " + lockFile + " names it), then run"
            + " the command again");
      }
      if (!announced) {
        progress.accept("Another process, such as iidca renew, holds " + lockFile
            + ": waiting up to " + lockPatience.toSeconds() + " s");
        announced = true;
      }
      try {
        Thread.sleep(LOCK_POLL.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for " + lockFile);
      }
    }
  }

  /** Describes why the lock file could not be opened, with the fix for that case. */
  private EnrollmentException lockFailure(Path lockFile, IOException e) {
    String kind = Renewer.lockFileKind(lockFile);
    if (kind != null) {
      return unwritable(keyFile, "its lock file " + lockFile + " is " + kind,
          "remove " + lockFile);
    }
    if (Files.isRegularFile(lockFile, LinkOption.NOFOLLOW_LINKS)) {
      // For example, root's iidca renew created it with mode 0600 beside a user's key.
      return unwritable(keyFile, "opening its lock file " + lockFile + " for writing failed: "
          + describe(e), "let this user write " + lockFile + " (its owner, its mode, or"
              + " chattr -i), or remove it");
    }
    return unwritable(keyFile, "creating its lock file " + lockFile + " failed: "
        + describe(e), "make " + keyFile.getParent() + " writable or choose another path");
  }

  private void createKeyDirectory() throws EnrollmentException {
    Path directory = keyFile.getParent();
    if (Files.isDirectory(directory)) {
      return;
    }
    try {
      Files.createDirectories(directory);
    } catch (IOException e) {
      throw unwritable(keyFile, "creating its directory " + directory + " failed: "
          + describe(e), "make " + nearestExisting(directory) + " writable or choose another"
              + " path");
    }
  }

  /**
   * Completes the rename of {@code .KEY.new} when the certificate file contains its
   * certificate, so that {@code --force} presents a matching pair. A certificate file that
   * cannot be read leaves the pending key to {@link #prepare}, which replaces it.
   */
  private void completeEarlierRun() throws IOException {
    if (!Files.exists(PendingKey.of(keyFile)) || !Files.isRegularFile(certificateFile)) {
      return;
    }
    X509Certificate leaf;
    try {
      leaf = Pem.readCertificates(certificateFile).get(0);
    } catch (CertificateException | IllegalArgumentException | IndexOutOfBoundsException e) {
      return;
    }
    try {
      if (PendingKey.complete(keyFile, leaf, progress)) {
        progress.accept("Completed an interrupted enrollment: " + keyFile);
      }
    } catch (GeneralSecurityException e) {
      // Not a key type iidca issues: the pending key stays for prepare to replace.
    }
  }

  /** Rejects a parent, or its nearest existing ancestor, that is not a directory. */
  private static void checkParent(Path path) throws EnrollmentException {
    Path ancestor = nearestExisting(path.getParent());
    if (ancestor != null && !Files.isDirectory(ancestor)) {
      throw unwritable(path, ancestor + " is not a directory",
          "choose a path in a directory");
    }
  }

  /** Returns {@code path} or its nearest ancestor that exists, or null when none does. */
  private static Path nearestExisting(Path path) {
    Path ancestor = path;
    while (ancestor != null && !Files.exists(ancestor)) {
      ancestor = ancestor.getParent();
    }
    return ancestor;
  }

  /**
   * Opens an existing file for writing, without changing it, to find a file that a rename
   * cannot replace: Linux refuses that open with EPERM for an immutable or append-only file
   * ({@code chattr +i}, {@code +a}), also to root, and with EROFS on a read-only file system.
   * EACCES, a file without write permission, is allowed, because a rename replaces such a
   * file when the directory is writable.
   */
  private static void checkReplaceable(Path path) throws EnrollmentException {
    if (!Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
      // Opened and closed: nothing is written.
    } catch (AccessDeniedException e) {
      // A rename still replaces a read-only file in a writable directory.
    } catch (IOException e) {
      throw unwritable(path, describe(e), "make it replaceable (for example with chattr -i)"
          + " or choose another path");
    }
  }

  /**
   * Writes the new key to {@code .KEY.new} and reserves the certificate chain's temporary
   * file, each flushed to disk. On failure, deletes what it wrote.
   *
   * @throws EnrollmentException naming the file that cannot be written, the reason and the fix
   */
  void prepare(PrivateKey key) throws IOException, EnrollmentException {
    try {
      KeyFiles.writePlain(PendingKey.of(keyFile), key);
    } catch (IOException e) {
      throw unwritable(keyFile, "writing " + PendingKey.of(keyFile) + " failed: "
          + describe(e), "make " + keyFile.getParent() + " writable and free space on its"
              + " file system, or choose another path");
    }
    try {
      certificate = AtomicFiles.reserve(certificateFile, RESERVED_BYTES, AtomicFiles.PUBLIC);
      // With --force, the new chain keeps the owner, group and mode of the file it replaces.
      certificate.keepAttributesOfTarget();
    } catch (IOException e) {
      Files.deleteIfExists(PendingKey.of(keyFile));
      throw unwritable(certificateFile, "reserving " + RESERVED_BYTES + " bytes for it in "
          + certificateFile.getParent() + " failed: " + describe(e), "make that directory"
              + " writable and free space on its file system, or choose another path");
    }
  }

  /**
   * Replaces the certificate file with the chain, then renames {@code .KEY.new} over the key
   * file. A failed key rename leaves {@code .KEY.new} for the next run to complete.
   *
   * @throws IOException naming the files and the fix
   */
  void install(List<X509Certificate> chain) throws IOException {
    byte[] pem = Pem.encodeChain(chain).getBytes(StandardCharsets.US_ASCII);
    try {
      certificate.commit(pem);
    } catch (IOException e) {
      throw new IOException("the CA issued certificate " + Renewer.serial(chain.get(0))
          + " but it cannot be written to " + certificateFile + ": " + describe(e) + "; "
          + certificateFile + " and " + keyFile + " are unchanged", e);
    }
    certificateInstalled = true;
    PendingKey.install(certificateFile, keyFile);
  }

  /**
   * Deletes the temporary files that {@link #install} did not rename: the reservation, and
   * the pending key unless the certificate it belongs to is in place.
   */
  @Override
  public void close() throws IOException {
    try {
      if (certificate != null) {
        certificate.close();
      }
      if (certificate != null && !certificateInstalled) {
        Files.deleteIfExists(PendingKey.of(keyFile));
      }
    } finally {
      if (lock != null) {
        lock.close();
        lock = null;
      }
    }
  }

  private static EnrollmentException unwritable(Path path, String reason, String fix) {
    return new EnrollmentException("cannot write " + path + ": " + reason + ". The CA was not"
        + " asked for a certificate: " + fix + ", then run the command again");
  }
}
