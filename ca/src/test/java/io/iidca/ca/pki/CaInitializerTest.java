package io.iidca.ca.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.iidca.ca.config.CaConfig;
import io.iidca.ca.config.DbConfig;
import io.iidca.ca.config.Lifetime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CaInitializer}: a CA's files are created once, and a failed step leaves neither files
 * nor directories behind. The failures are made with a regular file where init needs a
 * directory, which stops writes also when the tests run as root.
 */
class CaInitializerTest {

  private static final char[] PASSWORD = "init test password".toCharArray();

  @TempDir
  Path directory;

  @Test
  void createWritesEveryFile() throws IOException {
    CaFiles files = new CaFiles(directory.resolve("ca"));

    CaInitializer.create(files, config(), PASSWORD);

    assertThat(files.resolve(CaFiles.ROOT_KEY)).isRegularFile();
    assertThat(files.resolve(CaFiles.INTERMEDIATE_KEY)).isRegularFile();
    assertThat(files.resolve(CaFiles.ROOT_CERT)).isRegularFile();
    assertThat(files.resolve(CaFiles.INTERMEDIATE_CERT)).isRegularFile();
    assertThat(files.caConfig()).isRegularFile();
  }

  @Test
  void failedCertificateLeavesNothing() throws IOException {
    Path base = directory.resolve("ca");
    Files.createDirectories(base);
    // A file named like the certificates' directory makes the first certificate fail.
    Path certs = files(base).resolve(CaFiles.ROOT_CERT).getParent();
    Files.writeString(certs, "not a directory");

    Throwable failure = catchThrowable(() -> CaInitializer.create(files(base), config(),
        PASSWORD));

    assertThat(failure).isInstanceOf(IOException.class)
        .hasMessageContaining(files(base).resolve(CaFiles.ROOT_CERT).toString())
        .hasMessageContaining("nothing of the new CA was kept");
    assertThat(entries(base)).containsExactly(certs);
  }

  @Test
  void failedConfigurationRemovesCreatedDirectories() throws IOException {
    Path base = directory.resolve("new-ca");
    Files.createDirectories(base);
    Path config = files(base).caConfig().getParent();
    Files.writeString(config, "not a directory");

    Throwable failure = catchThrowable(() -> CaInitializer.create(files(base), config(),
        PASSWORD));

    assertThat(failure).isInstanceOf(IOException.class)
        .hasMessageContaining(files(base).caConfig().toString());
    assertThat(entries(base)).as("secrets/ and certs/ removed, the blocking file kept")
        .containsExactly(config);
  }

  @Test
  void foreignFileKeepsItsDirectory() throws IOException {
    Path base = directory.resolve("shared");
    Path certs = files(base).resolve(CaFiles.ROOT_CERT).getParent();
    Files.createDirectories(certs);
    Path foreign = Files.writeString(certs.resolve("other.pem"), "someone else's file");
    Path config = files(base).caConfig().getParent();
    Files.writeString(config, "not a directory");

    catchThrowable(() -> CaInitializer.create(files(base), config(), PASSWORD));

    assertThat(foreign).hasContent("someone else's file");
    assertThat(files(base).resolve(CaFiles.ROOT_CERT)).doesNotExist();
    assertThat(files(base).resolve(CaFiles.ROOT_KEY).getParent()).doesNotExist();
  }

  private static CaFiles files(Path base) {
    return new CaFiles(base);
  }

  private static CaConfig config() {
    return new CaConfig("Init Test CA", "127.0.0.1:8443", List.of("ca.local"),
        CaFiles.ROOT_CERT, CaFiles.INTERMEDIATE_CERT, CaFiles.INTERMEDIATE_KEY, DbConfig.DEFAULT,
        Lifetime.DEFAULT, List.of());
  }

  private static List<Path> entries(Path base) throws IOException {
    try (Stream<Path> paths = Files.list(base)) {
      return paths.sorted().toList();
    }
  }
}
