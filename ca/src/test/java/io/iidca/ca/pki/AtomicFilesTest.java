package io.iidca.ca.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.ca.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link AtomicFiles}: content and permissions are exact whatever the process umask is, no
 * temporary file survives success or failure, and a symbolic link at the target is replaced
 * rather than followed.
 */
class AtomicFilesTest {

  @TempDir
  Path directory;

  @Test
  void writeCreatesFileWithExactContentAndMode() throws IOException {
    Path target = directory.resolve("a/b/key.pem");

    AtomicFiles.write(target, bytes("secret"), AtomicFiles.PRIVATE);

    assertThat(Files.readString(target)).isEqualTo("secret");
    assertThat(mode(target)).isEqualTo("rw-------");
    assertThat(names(target.getParent())).containsExactly("key.pem");
  }

  @Test
  void writeReplacesContentAndMode() throws IOException {
    Path target = directory.resolve("ca.crt");
    Files.writeString(target, "old content that is longer");
    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxrwxrwx"));

    AtomicFiles.write(target, bytes("new"), AtomicFiles.PUBLIC);

    assertThat(Files.readString(target)).isEqualTo("new");
    assertThat(mode(target)).isEqualTo("rw-r--r--");
    assertThat(names(directory)).containsExactly("ca.crt");
  }

  @Test
  void replaceKeepsModeOfExistingFile() throws IOException {
    Path target = directory.resolve("app.crt");
    Files.writeString(target, "old");
    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r-----"));

    AtomicFiles.replace(target, "new".getBytes(StandardCharsets.US_ASCII), AtomicFiles.PUBLIC);

    assertThat(target).hasContent("new");
    assertThat(Files.getPosixFilePermissions(target))
        .isEqualTo(PosixFilePermissions.fromString("rw-r-----"));
  }

  @Test
  void replaceCreatesNewFileWithGivenMode() throws IOException {
    Path target = directory.resolve("new.crt");

    AtomicFiles.replace(target, "new".getBytes(StandardCharsets.US_ASCII), AtomicFiles.PUBLIC);

    assertThat(Files.getPosixFilePermissions(target)).isEqualTo(AtomicFiles.PUBLIC);
  }

  @Test
  void keptKeyModeGrantsOthersNothing() throws IOException {
    Path old = Files.writeString(directory.resolve("app.key"), "old key");
    Files.setPosixFilePermissions(old, PosixFilePermissions.fromString("rw-r--r--"));
    Path pending = Files.writeString(directory.resolve(".app.key.new"), "new key");

    Set<PosixFilePermission> kept = AtomicFiles.keepAttributes(old, pending,
        AtomicFiles.PRIVATE);

    assertThat(kept).isEqualTo(PosixFilePermissions.fromString("rw-r-----"));
    assertThat(Files.getPosixFilePermissions(pending)).isEqualTo(kept);
  }

  @Test
  void replaceKeepsOwnerAndGroupAsRoot() throws IOException {
    org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
        "only root may give a file to another user");
    Path target = Files.writeString(directory.resolve("web.crt"), "old");
    var lookup = target.getFileSystem().getUserPrincipalLookupService();
    var view = Files.getFileAttributeView(target,
        java.nio.file.attribute.PosixFileAttributeView.class);
    view.setOwner(lookup.lookupPrincipalByName("nobody"));
    view.setGroup(lookup.lookupPrincipalByGroupName("nogroup"));

    AtomicFiles.replace(target, "new".getBytes(StandardCharsets.US_ASCII), AtomicFiles.PUBLIC);

    var attributes = Files.readAttributes(target,
        java.nio.file.attribute.PosixFileAttributes.class);
    assertThat(attributes.owner().getName()).isEqualTo("nobody");
    assertThat(attributes.group().getName()).isEqualTo("nogroup");
  }

  @Test
  void createRefusesExistingFileAndKeepsIt() throws IOException {
    Path target = directory.resolve("ca.crt");
    Files.writeString(target, "keep");

    assertThatThrownBy(() -> AtomicFiles.create(target, bytes("new"), AtomicFiles.PUBLIC))
        .isInstanceOf(FileAlreadyExistsException.class);
    assertThat(Files.readString(target)).isEqualTo("keep");
    assertThat(names(directory)).containsExactly("ca.crt");
  }

  @Test
  void failedRenameLeavesNoTemporaryFile() throws IOException {
    Path target = directory.resolve("busy");
    Files.createDirectories(target.resolve("child"));

    assertThatThrownBy(() -> AtomicFiles.write(target, bytes("x"), AtomicFiles.PRIVATE))
        .isInstanceOf(IOException.class);
    assertThat(names(directory)).containsExactly("busy");
  }

  @Test
  void reservationHoldsSpaceUntilCommit() throws IOException {
    Path target = directory.resolve("app.crt");
    Files.writeString(target, "old");

    try (AtomicFiles.Reservation reservation = AtomicFiles.reserve(target, 4096,
        AtomicFiles.PUBLIC)) {
      assertThat(Files.size(reservation.temporary())).isEqualTo(4096);
      assertThat(Files.readString(target)).isEqualTo("old");

      reservation.commit(bytes("new"));
    }

    assertThat(Files.readString(target)).isEqualTo("new");
    assertThat(mode(target)).isEqualTo("rw-r--r--");
    assertThat(names(directory)).containsExactly("app.crt");
  }

  @Test
  void closedReservationLeavesTargetAndNoTemporaryFile() throws IOException {
    Path target = directory.resolve("app.crt");
    Files.writeString(target, "old");

    AtomicFiles.reserve(target, 4096, AtomicFiles.PUBLIC).close();

    assertThat(Files.readString(target)).isEqualTo("old");
    assertThat(names(directory)).containsExactly("app.crt");
  }

  @Test
  void symbolicLinkAtTargetIsReplacedNotFollowed() throws IOException {
    Path victim = directory.resolve("victim");
    Files.writeString(victim, "untouched");
    Path target = directory.resolve("key.pem");
    Files.createSymbolicLink(target, victim);

    AtomicFiles.write(target, bytes("secret"), AtomicFiles.PRIVATE);

    assertThat(Files.readString(victim)).isEqualTo("untouched");
    assertThat(Files.isSymbolicLink(target)).isFalse();
    assertThat(Files.readString(target)).isEqualTo("secret");
  }

  /**
   * The umask applies when a file is created; the file must still end with exactly the mode
   * asked for. A child JVM runs with each umask, because a JVM cannot change its own.
   */
  @ParameterizedTest(name = "umask {0}, mode {1}")
  @CsvSource({"077, rw-r--r--", "022, rw-------", "022, rw-r--r--", "000, rw-------",
      "027, rw-r--r--"})
  void modeIsExactUnderAnyUmask(String umask, String expectedMode) throws Exception {
    Path target = directory.resolve("out");
    String classpath = String.join(java.io.File.pathSeparator,
        location(AtomicFiles.class), location(Writer.class));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder("/bin/sh", "-c", "umask " + umask
        + " && exec \"$0\" -cp \"$1\" \"$2\" \"$3\" \"$4\"", java, classpath,
        Writer.class.getName(), target.toString(), expectedMode)
        .redirectErrorStream(true)
        .start();
    String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();

    assertThat(child.exitValue()).as(output).isZero();
    assertThat(mode(target)).isEqualTo(expectedMode);
    assertThat(Files.readString(target)).isEqualTo("written under umask");
    assertThat(names(directory)).containsExactly("out");
  }

  /** Writes args[0] with the permissions args[1]. The umask test runs it in a child JVM. */
  public static final class Writer {
    public static void main(String[] args) throws IOException {
      Set<PosixFilePermission> permissions = PosixFilePermissions.fromString(args[1]);
      AtomicFiles.write(Path.of(args[0]), bytes("written under umask"), permissions);
    }
  }

  static String location(Class<?> type) throws Exception {
    return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
  }

  static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  static String mode(Path file) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
  }

  static List<String> names(Path directory) throws IOException {
    try (Stream<Path> entries = Files.list(directory)) {
      return entries.map(path -> path.getFileName().toString()).sorted().toList();
    }
  }
}
