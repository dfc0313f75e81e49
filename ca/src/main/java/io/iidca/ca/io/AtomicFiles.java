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
    Path absolute = target.toAbsolutePath();
    Path directory = absolute.getParent();
    Files.createDirectories(directory);
    Path temporary = Files.createTempFile(directory, "." + absolute.getFileName() + ".", ".tmp",
        PosixFilePermissions.asFileAttribute(permissions));
    try {
      try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
        channel.write(java.nio.ByteBuffer.wrap(content));
        channel.force(true);
      }
      // createTempFile applies the umask; set the permissions the caller asked for exactly.
      Files.setPosixFilePermissions(temporary, permissions);
      move(temporary, absolute);
    } finally {
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

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
