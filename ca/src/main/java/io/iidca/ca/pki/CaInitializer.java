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
      ConfigFile.save(files.base(), config);
      return root;
    } catch (IOException | RuntimeException e) {
      for (Path path : written) {
        Files.deleteIfExists(path);
      }
      throw e;
    }
  }

  private static void writeKey(Path path, KeyPair keys, char[] password, List<Path> written)
      throws IOException {
    written.add(path);
    KeyFiles.writeEncrypted(path, keys.getPrivate(), password);
  }

  private static void writeCertificate(Path path, X509Certificate certificate,
      List<Path> written) throws IOException {
    written.add(path);
    AtomicFiles.write(path, Pem.encode(certificate).getBytes(StandardCharsets.US_ASCII),
        AtomicFiles.PUBLIC);
  }
}
