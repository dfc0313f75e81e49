package io.iidca.ca.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
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
    private final Set<PosixFilePermission> permissions;

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
