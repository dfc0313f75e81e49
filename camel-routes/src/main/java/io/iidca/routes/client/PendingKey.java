package io.iidca.routes.client;

import io.iidca.ca.io.AtomicFiles;
import io.iidca.ca.pki.KeyFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.function.Consumer;

/**
 * The file {@code .KEY.new} beside a key file, which contains a new key until its certificate is
 * in place. {@link Renewer} on rekey and {@link ClientEnrollment} write the new key there
 * (0600), then replace the certificate file, then rename this file over the key file. If that
 * last rename fails or the process dies before it, the certificate file contains the new
 * certificate and this file contains its key, and {@link #complete} finishes the rename.
 */
final class PendingKey {

  private PendingKey() {}

  /** Returns {@code .KEY.new} in the directory of {@code keyFile}. */
  static Path of(Path keyFile) {
    return Renewer.sibling(keyFile, ".new");
  }

  /**
   * Completes a replacement that stopped between the two renames: renames the pending key over
   * {@code keyFile} when it matches {@code leaf} and the key file does not. Deletes a pending
   * key that is not valid PEM or that belongs to no certificate in place, because it was never
   * certified.
   *
   * @return whether the pending key was renamed over the key file
   */
  static boolean complete(Path keyFile, X509Certificate leaf, Consumer<String> progress)
      throws IOException, GeneralSecurityException {
    Path pending = of(keyFile);
    if (!Files.exists(pending)) {
      return false;
    }
    PrivateKey pendingKey;
    try {
      pendingKey = KeyFiles.read(pending, null);
    } catch (GeneralSecurityException e) {
      // AtomicFiles writes it whole or not at all, so this is not a key that we wrote.
      Files.delete(pending);
      progress.accept("Deleted " + pending + ": " + e.getMessage());
      return false;
    }
    boolean currentMatches = fileMatches(keyFile, leaf.getPublicKey());
    if (!currentMatches && Renewer.matches(pendingKey, leaf.getPublicKey())) {
      AtomicFiles.move(pending, keyFile);
      return true;
    }
    // Left by a run that stopped before the certificate was replaced: its key was never
    // certified.
    Files.delete(pending);
    return false;
  }

  /**
   * Renames the pending key over {@code keyFile}, the last step of a replacement.
   *
   * @throws IOException naming the files, the reason and the command that completes the
   *     rename later; the pending key stays in place
   */
  static void install(Path certificateFile, Path keyFile) throws IOException {
    Path pending = of(keyFile);
    try {
      // The new key keeps the owner, group and mode that the operator gave the old one.
      AtomicFiles.keepAttributes(keyFile, pending, AtomicFiles.PRIVATE);
    } catch (IOException e) {
      // The pending key stays owner-only (0600), which is safe, and the rename goes on.
    }
    try {
      AtomicFiles.move(pending, keyFile);
    } catch (IOException e) {
      throw new IOException("wrote the new certificate to " + certificateFile
          + " but cannot rename its key " + pending + " over " + keyFile + ": "
          + EnrollmentFiles.describe(e) + ". The new key stays in " + pending + ": make "
          + keyFile + " replaceable (for example with chattr -i), then run iidca renew "
          + certificateFile + " " + keyFile + ", which completes the rename", e);
    }
  }

  private static boolean fileMatches(Path file, PublicKey publicKey) throws IOException {
    if (!Files.exists(file)) {
      return false;
    }
    try {
      return Renewer.matches(KeyFiles.read(file, null), publicKey);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
