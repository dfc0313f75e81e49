package io.iidca.ca.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * Writes files so that a reader sees either the old content or the new content, never a part:
 * the bytes go to a temporary file in the same directory with the final permissions, are
 * flushed to disk, and the temporary file is renamed over the target.
 */
public final class AtomicFiles {

  /** Owner read and write (0600), for private keys and password-protected material. */
  public static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString(
      "rw-------");
  /** Owner read and write, everyone read (0644), for certificates and configuration. */
  public static final Set<PosixFilePermission> PUBLIC = PosixFilePermissions.fromString(
      "rw-r--r--");

  private static final Set<PosixFilePermission> OTHERS = EnumSet.of(
      PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE,
      PosixFilePermission.OTHERS_EXECUTE);

  private AtomicFiles() {}

  /** Replaces {@code target} with {@code content}, creating parent directories as needed. */
  public static void write(Path target, byte[] content, Set<PosixFilePermission> permissions)
      throws IOException {
    try (Reservation reservation = reserve(target, 0, permissions)) {
      reservation.commit(content);
    }
  }

  /**
   * Creates the temporary file for a later {@link Reservation#commit} of {@code target},
   * creating parent directories as needed, and fills it with {@code size} zero bytes flushed to
   * disk. A directory that cannot be written or a full disk then fails here, before the
   * content exists.
   */
  public static Reservation reserve(Path target, int size,
      Set<PosixFilePermission> permissions) throws IOException {
    Path absolute = target.toAbsolutePath();
    Path directory = absolute.getParent();
    Files.createDirectories(directory);
    Path temporary = Files.createTempFile(directory, "." + absolute.getFileName() + ".", ".tmp",
        PosixFilePermissions.asFileAttribute(permissions));
    try {
      if (size > 0) {
        try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
          channel.write(java.nio.ByteBuffer.allocate(size));
          channel.force(true);
        }
      }
      return new Reservation(absolute, temporary, permissions);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(temporary);
      throw e;
    }
  }

  /**
   * A temporary file beside its target, made by {@link #reserve}. Closing it deletes the
   * temporary file unless {@link #commit} has renamed it. Not thread-safe.
   */
  public static final class Reservation implements AutoCloseable {

    private final Path target;
    private final Path temporary;
    private Set<PosixFilePermission> permissions;

    private Reservation(Path target, Path temporary, Set<PosixFilePermission> permissions) {
      this.target = target;
      this.temporary = temporary;
      this.permissions = permissions;
    }

    /** Returns the temporary file, for messages. */
    public Path temporary() {
      return temporary;
    }

    /**
     * Makes the commit keep the owner, group and permissions of the target as it is now, when
     * it exists, as {@link #keepAttributes} describes. Where they cannot be read or set, the
     * commit uses the permissions of {@link #reserve} and goes on, because the content matters
     * more than the mode.
     */
    public void keepAttributesOfTarget() {
      try {
        permissions = keepAttributes(target, temporary, permissions);
      } catch (IOException e) {
        // The permissions given to reserve stay, as for a new target.
      }
    }

    /**
     * Writes {@code content} over the reserved bytes, cuts the file to its length, flushes it
     * to disk and renames it over the target. Content longer than the reservation needs more
     * space. On a copy-on-write file system, such as Btrfs or ZFS, even an overwrite does.
     */
    public void commit(byte[] content) throws IOException {
      try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
        channel.write(java.nio.ByteBuffer.wrap(content));
        channel.truncate(content.length);
        channel.force(true);
      }
      // createTempFile applies the umask; set the permissions the caller asked for exactly.
      Files.setPosixFilePermissions(temporary, permissions);
      move(temporary, target);
    }

    @Override
    public void close() throws IOException {
      Files.deleteIfExists(temporary);
    }
  }

  /**
   * Replaces {@code target} like {@link #write}, but an existing target passes its owner, group
   * and permissions on to the new file, so that a renewal keeps what the operator set, such as
   * 0640 and the group of a web server. {@code permissions} apply to a new target.
   */
  public static void replace(Path target, byte[] content, Set<PosixFilePermission> permissions)
      throws IOException {
    try (Reservation reservation = reserve(target, 0, permissions)) {
      reservation.keepAttributesOfTarget();
      reservation.commit(content);
    }
  }

  /**
   * Gives {@code file} the owner, group and permissions of {@code model}, when {@code model}
   * exists. Permissions for others are granted only when {@code permissions} grants some, so a
   * private key never becomes readable by everyone. An owner or group that this process may not
   * give away, as a user other than root, is left as it is.
   *
   * @return the permissions that {@code file} has now
   */
  public static Set<PosixFilePermission> keepAttributes(Path model, Path file,
      Set<PosixFilePermission> permissions) throws IOException {
    PosixFileAttributes existing;
    try {
      existing = Files.readAttributes(model, PosixFileAttributes.class);
    } catch (java.nio.file.NoSuchFileException e) {
      return permissions;
    }
    Set<PosixFilePermission> kept = EnumSet.noneOf(PosixFilePermission.class);
    kept.addAll(existing.permissions());
    if (Collections.disjoint(permissions, OTHERS)) {
      kept.removeAll(OTHERS);
    }
    PosixFileAttributeView view = Files.getFileAttributeView(file,
        PosixFileAttributeView.class);
    try {
      view.setGroup(existing.group());
      view.setOwner(existing.owner());
    } catch (java.nio.file.FileSystemException notPermitted) {
      // Only root may give a file away; another user's new file stays its own.
    }
    Files.setPosixFilePermissions(file, kept);
    return kept;
  }

  /** Like {@link #write} but fails if the target already exists. */
  public static void create(Path target, byte[] content, Set<PosixFilePermission> permissions)
      throws IOException {
    if (Files.exists(target)) {
      throw new FileAlreadyExistsException(target.toString());
    }
    write(target, content, permissions);
  }

  /**
   * Renames {@code from} over {@code to} atomically, or with a plain rename where the file
   * system cannot do an atomic one.
   */
  public static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
