package io.iidca.ca.pki;

import io.iidca.ca.config.CaConfig;
import io.iidca.ca.config.ConfigFile;
import io.iidca.ca.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Creates a CA's files: a root and an intermediate (ECDSA P-256), both keys encrypted with the
 * password in an owner-only {@code secrets/}, the certificates, and {@code config/ca.yaml}
 * last. Refuses to overwrite any of them, and removes what it wrote when a step fails.
 */
public final class CaInitializer {

  private static final List<String> CA_FILES = List.of("config/ca.yaml", CaFiles.ROOT_KEY,
      CaFiles.INTERMEDIATE_KEY, CaFiles.ROOT_CERT, CaFiles.INTERMEDIATE_CERT);

  private CaInitializer() {}

  /**
   * Creates the CA and returns its root certificate.
   *
   * @throws FileAlreadyExistsException if any CA file exists already
   */
  public static X509Certificate create(CaFiles files, CaConfig config, char[] password)
      throws IOException {
    for (String path : CA_FILES) {
      if (Files.exists(files.resolve(path))) {
        throw new FileAlreadyExistsException(files.resolve(path).toString(), null,
            "a CA already exists at " + files.base() + "; refusing to overwrite it");
      }
    }
    List<Path> written = new ArrayList<>();
    // Directories that init creates, removed again when a step fails, deepest first.
    List<Path> created = missingDirectories(files, List.of(files.resolve(CaFiles.ROOT_KEY),
        files.resolve(CaFiles.ROOT_CERT), files.caConfig()));
    try {
      Instant now = Instant.now();
      KeyPair rootKeys = KeySpec.EC_P256.generate();
      X509Certificate root = CaCertificates.root(config.name(), rootKeys, now);
      KeyPair intermediateKeys = KeySpec.EC_P256.generate();
      X509Certificate intermediate = CaCertificates.intermediate(config.name(),
          intermediateKeys.getPublic(), root, rootKeys.getPrivate(), now);

      Path secrets = files.base().resolve("secrets");
      Files.createDirectories(secrets);
      Files.setPosixFilePermissions(secrets, PosixFilePermissions.fromString("rwx------"));
      writeKey(files.resolve(CaFiles.ROOT_KEY), rootKeys, password, written);
      writeKey(files.resolve(CaFiles.INTERMEDIATE_KEY), intermediateKeys, password, written);
      writeCertificate(files.resolve(CaFiles.ROOT_CERT), root, written);
      writeCertificate(files.resolve(CaFiles.INTERMEDIATE_CERT), intermediate, written);
      written.add(files.caConfig());
      try {
        ConfigFile.save(files.base(), config);
      } catch (IOException e) {
        throw writeFailure(files.caConfig(), e);
      }
      return root;
    } catch (IOException | RuntimeException e) {
      for (Path path : written) {
        try {
          Files.deleteIfExists(path);
        } catch (IOException cleanup) {
          // Such as a path below a regular file. The failure above is the one to report.
          e.addSuppressed(cleanup);
        }
      }
      for (Path directory : created) {
        deleteIfEmpty(directory);
      }
      throw e;
    }
  }

  /**
   * Returns the directories above {@code paths}, up to and including the CA's directory, that
   * do not exist yet, deepest first.
   */
  private static List<Path> missingDirectories(CaFiles files, List<Path> paths) {
    List<Path> missing = new ArrayList<>();
    Path base = files.base().toAbsolutePath().normalize();
    for (Path path : paths) {
      for (Path directory = path.toAbsolutePath().normalize().getParent();
          directory != null && directory.startsWith(base); directory = directory.getParent()) {
        if (!Files.exists(directory) && !missing.contains(directory)) {
          missing.add(directory);
        }
      }
    }
    missing.sort(Comparator.comparingInt(Path::getNameCount).reversed());
    return missing;
  }

  private static void deleteIfEmpty(Path directory) {
    try {
      Files.deleteIfExists(directory);
    } catch (IOException notEmptyOrGone) {
      // A directory that contains files that init did not write stays.
    }
  }

  private static void writeKey(Path path, KeyPair keys, char[] password, List<Path> written)
      throws IOException {
    written.add(path);
    try {
      KeyFiles.writeEncrypted(path, keys.getPrivate(), password);
    } catch (IOException e) {
      throw writeFailure(path, e);
    }
  }

  private static void writeCertificate(Path path, X509Certificate certificate,
      List<Path> written) throws IOException {
    written.add(path);
    try {
      AtomicFiles.write(path, Pem.encode(certificate).getBytes(StandardCharsets.US_ASCII),
          AtomicFiles.PUBLIC);
    } catch (IOException e) {
      throw writeFailure(path, e);
    }
  }

  /** Returns a failure that names the CA file, which a bare "No space left" does not. */
  private static IOException writeFailure(Path path, IOException e) {
    return new IOException("cannot write " + path + ": " + e.getMessage()
        + "; nothing of the new CA was kept", e);
  }
}
