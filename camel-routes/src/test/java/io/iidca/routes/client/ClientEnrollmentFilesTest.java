package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.KeyFiles;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Pem;
import io.iidca.routes.client.ClientEnrollment.EnrollmentException;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsMetadataEmulator;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code iidca certificate} does with its two files against a real CA. Files that cannot
 * be written fail before the sign request, which the same instance's next enrollment shows:
 * under trust on first use it would be rejected if the CA had issued a certificate. A failed
 * rename of the key keeps the new key in {@code .KEY.new}, and the next run completes it.
 * An enrollment holds the lock file that a renewal of the same files takes, and waits for it.
 * The tmpfs and {@code chattr} cases run only as root and are skipped otherwise.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientEnrollmentFilesTest {

  @TempDir
  static Path caDirectory;
  @TempDir
  static Path parent;

  RenewalCa ca;
  /** This test's own directory, because the class shares one instance for all tests. */
  Path directory;
  AwsMetadataEmulator emulator;
  List<String> progress = new ArrayList<>();

  @BeforeAll
  void startCa() throws Exception {
    ca = RenewalCa.start(caDirectory);
  }

  @AfterAll
  void stopCa() {
    ca.close();
  }

  @BeforeEach
  void startEmulator() throws Exception {
    directory = Files.createTempDirectory(parent, "enroll");
    emulator = AwsMetadataEmulator.builder().signer(ca.signer())
        .instance(AwsInstance.random(RenewalCa.ACCOUNT, "us-east-1")).start();
    progress.clear();
  }

  @AfterEach
  void stopEmulator() {
    emulator.close();
  }

  @Test
  void parentThatIsFileFailsBeforeRequest() throws Exception {
    Path file = Files.writeString(directory.resolve("file"), "not a directory");

    for (List<Path> pair : List.of(
        List.of(file.resolve("app.crt"), directory.resolve("app.key")),
        List.of(directory.resolve("app.crt"), file.resolve("sub/app.key")))) {
      assertThatThrownBy(() -> enroll(pair.get(0), pair.get(1), false))
          .isInstanceOf(EnrollmentException.class)
          .hasMessageContaining(file + " is not a directory")
          .hasMessageContaining("The CA was not asked for a certificate");
    }

    assertThat(listing()).containsExactly("file");
    assertInstanceCanStillEnroll();
  }

  @Test
  void directoryAtCertificatePathFailsBeforeRequest() throws Exception {
    Path crt = Files.createDirectory(directory.resolve("app.crt"));
    Path key = directory.resolve("app.key");

    assertThatThrownBy(() -> enroll(crt, key, true))
        .isInstanceOf(EnrollmentException.class)
        .hasMessageContaining("cannot write " + crt + ": it is a directory");

    assertThat(listing()).containsExactly("app.crt");
    assertInstanceCanStillEnroll();
  }

  @Test
  void samePathTwiceFailsBeforeRequest() throws Exception {
    Path same = directory.resolve("same.pem");
    Path link = Files.createSymbolicLink(directory.resolve("link.pem"), same);
    Files.writeString(same, "old");

    for (Path key : List.of(same, directory.resolve("sub/../same.pem"), link)) {
      assertThatThrownBy(() -> enroll(same, key, true))
          .isInstanceOf(EnrollmentException.class)
          .hasMessageContaining("are the same file, " + same.toRealPath());
    }

    assertThat(same).hasContent("old");
    assertInstanceCanStillEnroll();
  }

  @Test
  void readOnlyDirectoryFailsBeforeRequest() throws Exception {
    assumeTrue(!isRoot(), "root writes to a directory without write permission");
    Path readOnly = Files.createDirectory(directory.resolve("read-only"));
    Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-xr-xr-x"));
    try {
      assertThatThrownBy(() -> enroll(readOnly.resolve("app.crt"), readOnly.resolve("app.key"),
          false))
          .isInstanceOf(EnrollmentException.class)
          .hasMessageContaining("cannot write " + readOnly.resolve("app.key"))
          .hasMessageContaining("failed: permission denied");
    } finally {
      Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    assertThat(listing()).containsExactly("read-only");
    assertInstanceCanStillEnroll();
  }

  @Test
  void uncreatableKeyDirectoryFailsBeforeRequest() throws Exception {
    Path locked = Files.createDirectory(directory.resolve("locked"));
    Path key = locked.resolve("sub/app.key");
    assumeTrue(isRoot() && run("chattr", "+i", locked.toString()), "chattr +i needs root");
    try {
      assertThatThrownBy(() -> enroll(directory.resolve("app.crt"), key, false))
          .isInstanceOf(EnrollmentException.class)
          .hasMessageContaining("cannot write " + key + ": creating its directory "
              + locked.resolve("sub") + " failed: Operation not permitted")
          .hasMessageContaining("The CA was not asked for a certificate: make " + locked
              + " writable");
    } finally {
      assertThat(run("chattr", "-i", locked.toString())).isTrue();
    }

    assertThat(listing()).containsExactly("locked");
    assertInstanceCanStillEnroll();
  }

  @Test
  void fullDiskFailsBeforeRequest() throws Exception {
    Path full = Files.createDirectory(directory.resolve("full"));
    assumeTrue(isRoot() && run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs",
        full.toString()), "mounting a tmpfs needs root");
    try {
      fill(full.resolve("filler"));

      assertThatThrownBy(() -> enroll(full.resolve("app.crt"), full.resolve("app.key"), false))
          .isInstanceOf(EnrollmentException.class)
          .hasMessageContaining("cannot write " + full.resolve("app.key") + ": writing "
              + full.resolve(".app.key.new") + " failed: No space left on device");
      try (Stream<Path> files = Files.list(full)) {
        assertThat(files.map(file -> file.getFileName().toString()))
            .containsExactlyInAnyOrder("filler", ".app.key.lock");
      }
    } finally {
      assertThat(run("umount", full.toString())).isTrue();
    }
    assertInstanceCanStillEnroll();
  }

  @Test
  void immutableKeyFailsBeforeRequest() throws Exception {
    Path crt = directory.resolve("app.crt");
    Path key = directory.resolve("app.key");
    enroll(crt, key, false);
    byte[] crtBefore = Files.readAllBytes(crt);
    byte[] keyBefore = Files.readAllBytes(key);
    assumeTrue(isRoot() && run("chattr", "+i", key.toString()), "chattr +i needs root");
    try {
      assertThatThrownBy(() -> enroll(crt, key, true))
          .isInstanceOf(EnrollmentException.class)
          .hasMessageContaining("cannot write " + key + ": Operation not permitted")
          .hasMessageContaining("chattr -i");
    } finally {
      assertThat(run("chattr", "-i", key.toString())).isTrue();
    }

    assertThat(Files.readAllBytes(crt)).isEqualTo(crtBefore);
    assertThat(Files.readAllBytes(key)).isEqualTo(keyBefore);
    assertThat(listing()).containsExactly(".app.key.lock", "app.crt", "app.key");
  }

  @Test
  void failedKeyRenameIsCompletedByNextRun() throws Exception {
    Path crt = directory.resolve("app.crt");
    Path key = directory.resolve("app.key");
    X509Certificate first = enroll(crt, key, false).certificate();
    byte[] oldKey = Files.readAllBytes(key);
    Path pending = directory.resolve(".app.key.new");

    // After the checks and before the request, a directory that no rename can replace takes
    // the key's place.
    Consumer<String> blockKey = line -> {
      if (line.startsWith("Instance identity document")) {
        try {
          Files.delete(key);
          Files.createDirectories(key.resolve("blocking"));
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      }
    };
    assertThatThrownBy(() -> Enroller.enroll(request(crt, key, true, blockKey)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("wrote the new certificate to " + crt + " but cannot rename its"
            + " key " + pending + " over " + key)
        .hasMessageContaining("The new key stays in " + pending)
        .hasCauseInstanceOf(FileSystemException.class);
    X509Certificate second = Pem.readCertificate(crt);
    assertThat(second.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
    assertThat(Renewer.matches(KeyFiles.read(pending, null), second.getPublicKey())).isTrue();

    // The state of a crash between the two renames: new certificate, old key, pending key.
    Files.delete(key.resolve("blocking"));
    Files.delete(key);
    Files.write(key, oldKey);
    progress.clear();
    X509Certificate third = enroll(crt, key, true).certificate();

    assertThat(progress).startsWith("Completed an interrupted enrollment: " + key);
    assertThat(third.getSerialNumber()).isNotEqualTo(second.getSerialNumber());
    assertThat(Renewer.matches(KeyFiles.read(key, null), third.getPublicKey())).isTrue();
    assertThat(listing()).containsExactly(".app.key.lock", "app.crt", "app.key");
  }

  @Test
  void rejectedRequestLeavesNoFiles() throws Exception {
    enroll(directory.resolve("first.crt"), directory.resolve("first.key"), false);

    assertThatThrownBy(() -> enroll(directory.resolve("app.crt"), directory.resolve("app.key"),
        false))
        .isInstanceOf(EnrollmentException.class)
        .hasMessageContaining("already enrolled");

    assertThat(listing()).containsExactly(".app.key.lock", ".first.key.lock", "first.crt",
        "first.key");
  }

  @Test
  void enrollmentHoldsLockUntilFilesAreWritten() throws Exception {
    Path crt = directory.resolve("app.crt");
    Path key = directory.resolve("app.key");
    List<Boolean> lockFree = new ArrayList<>();
    Consumer<String> probe = line -> {
      if (line.startsWith("Instance identity document")) {
        lockFree.add(renewalCouldLock(key));
      }
    };

    Enroller.enroll(request(crt, key, false, probe));

    assertThat(lockFree).containsExactly(false);
    assertThat(renewalCouldLock(key)).isTrue();
  }

  @Test
  void forceWaitsForRenewalToReleaseLock() throws Exception {
    Path crt = directory.resolve("app.crt");
    Path key = directory.resolve("app.key");
    X509Certificate first = enroll(crt, key, false).certificate();
    List<String> lines = new CopyOnWriteArrayList<>();
    CompletableFuture<EnrollmentResult> forced;
    try (Renewer.Lock renewal = new Renewer(ca.url(), ca.root(), crt, key, false,
        Clock.systemUTC(), line -> { }).lock()) {
      forced = CompletableFuture.supplyAsync(() -> {
        try {
          return Enroller.enroll(request(crt, key, true, lines::add));
        } catch (Exception e) {
          throw new CompletionException(e);
        }
      });
      await(() -> !lines.isEmpty());
      assertThat(lines).containsExactly("Another process, such as iidca renew, holds "
          + directory.resolve(".app.key.lock") + ": waiting up to 120 s");
      assertThat(Pem.readCertificate(crt).getSerialNumber()).isEqualTo(first.getSerialNumber());
      assertThat(listing()).containsExactly(".app.key.lock", "app.crt", "app.key");
    }

    X509Certificate second = forced.get(30, TimeUnit.SECONDS).certificate();
    assertThat(second.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
    assertThat(Pem.readCertificate(crt).getSerialNumber()).isEqualTo(second.getSerialNumber());
    assertThat(Renewer.matches(KeyFiles.read(key, null), second.getPublicKey())).isTrue();
  }

  @Test
  void lockHeldTooLongFailsBeforeRequest() throws Exception {
    Path crt = directory.resolve("app.crt");
    Path key = directory.resolve("app.key");
    Path lockFile = directory.resolve(".app.key.lock");
    try (Renewer.Lock other = Renewer.tryLock(key.toAbsolutePath());
        EnrollmentFiles files = new EnrollmentFiles(crt, key, false, progress::add,
            Duration.ofSeconds(1))) {
      assertThat(other).isNotNull();
      assertThatThrownBy(files::check)
          .isInstanceOf(EnrollmentException.class)
          .hasMessageContaining("timed out after 1 s waiting for " + lockFile)
          .hasMessageContaining("holds while it writes " + key)
          .hasMessageContaining("The CA was not asked for a certificate")
          .hasMessageContaining("fuser -v " + lockFile);
    }

    assertThat(listing()).containsExactly(".app.key.lock");
    assertInstanceCanStillEnroll();
  }

  @Test
  void lockFileThatIsDirectoryFailsBeforeRequest() throws Exception {
    Path key = directory.resolve("app.key");
    Path lockFile = Files.createDirectory(directory.resolve(".app.key.lock"));

    assertThatThrownBy(() -> enroll(directory.resolve("app.crt"), key, false))
        .isInstanceOf(EnrollmentException.class)
        .hasMessageContaining("cannot write " + key + ": its lock file " + lockFile
            + " is a directory")
        .hasMessageContaining("The CA was not asked for a certificate: remove " + lockFile);

    assertThat(listing()).containsExactly(".app.key.lock");
    assertInstanceCanStillEnroll();
  }

  @Test
  void immutableLockFileFailsBeforeRequest() throws Exception {
    Path key = directory.resolve("app.key");
    Path lockFile = Files.createFile(directory.resolve(".app.key.lock"));
    assumeTrue(isRoot() && run("chattr", "+i", lockFile.toString()), "chattr +i needs root");
    try {
      assertThatThrownBy(() -> enroll(directory.resolve("app.crt"), key, false))
          .isInstanceOf(EnrollmentException.class)
          .hasMessageContaining("cannot write " + key + ": opening its lock file " + lockFile
              + " for writing failed: Operation not permitted")
          .hasMessageContaining("The CA was not asked for a certificate: let this user write "
              + lockFile);
    } finally {
      assertThat(run("chattr", "-i", lockFile.toString())).isTrue();
    }

    assertThat(listing()).containsExactly(".app.key.lock");
    assertInstanceCanStillEnroll();
  }

  @Test
  void lockFileThatIsLinkIsNotFollowed() throws Exception {
    Path key = directory.resolve("app.key");
    Path target = directory.resolve("target");
    Path lockFile = Files.createSymbolicLink(directory.resolve(".app.key.lock"), target);

    assertThatThrownBy(() -> enroll(directory.resolve("app.crt"), key, false))
        .isInstanceOf(EnrollmentException.class)
        .hasMessageContaining("cannot write " + key + ": its lock file " + lockFile
            + " is a symbolic link")
        .hasMessageContaining("The CA was not asked for a certificate: remove " + lockFile);
    assertThatThrownBy(() -> new Renewer(ca.url(), ca.root(), directory.resolve("app.crt"),
        key, false, Clock.systemUTC(), line -> { }).lock())
        .isInstanceOf(FileSystemException.class)
        .hasMessageContaining(lockFile + ": is a symbolic link");

    assertThat(target).doesNotExist();
    assertInstanceCanStillEnroll();
  }

  /** Returns whether a renewal of {@code key} would get its lock now, releasing it at once. */
  private static boolean renewalCouldLock(Path key) {
    try (Renewer.Lock lock = Renewer.tryLock(key.toAbsolutePath())) {
      return lock != null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() - deadline).as("waited 30 s").isNegative();
      Thread.sleep(20);
    }
  }

  private EnrollmentResult enroll(Path crt, Path key, boolean force) throws Exception {
    return Enroller.enroll(request(crt, key, force, progress::add));
  }

  private EnrollmentRequest request(Path crt, Path key, boolean force,
      Consumer<String> lines) {
    Map<String, String> variables = Map.of(MetadataEndpoints.AWS_VARIABLE,
        emulator.endpoint().toString());
    return new EnrollmentRequest(ca.url(), ca.root(), null, RenewalCa.PROVISIONER,
        RenewalCa.SUBJECT, List.of(), KeySpec.EC_P256, crt, key, force, lines,
        ProvisionerConfig.TYPE_AWS, variables::get, null);
  }

  /** Enrolls the emulator's instance into new files, which the CA allows only once. */
  private void assertInstanceCanStillEnroll() throws Exception {
    Path crt = directory.resolve("later.crt");
    enroll(crt, directory.resolve("later.key"), false);
    assertThat(Pem.readCertificates(crt)).hasSize(2);
  }

  /** Returns the names in this test's directory, hidden ones included, sorted. */
  private List<String> listing() throws IOException {
    try (Stream<Path> files = Files.list(directory)) {
      return files.map(file -> file.getFileName().toString()).sorted().toList();
    }
  }

  /** Writes zeros to {@code file} until its file system is full. */
  private static void fill(Path file) {
    try (OutputStream out = Files.newOutputStream(file)) {
      byte[] block = new byte[1024];
      for (int i = 0; i < 1024; i++) {
        out.write(block);
        out.flush();
      }
      throw new AssertionError("the tmpfs took 1 MiB");
    } catch (IOException e) {
      // No space left on device, as intended.
    }
  }

  private static boolean isRoot() throws IOException {
    return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
  }

  private static boolean run(String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    return process.waitFor() == 0;
  }
}
