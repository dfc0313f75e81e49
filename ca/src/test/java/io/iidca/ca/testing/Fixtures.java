package io.iidca.ca.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the real cloud identity documents and tokens that the tests verify, under the folder
 * named by the system property {@code iidca.fixtures} (the parent pom's Surefire configuration
 * sets it) or else under a fixed default. A missing folder or file fails the test instead of
 * skipping it.
 */
public final class Fixtures {

  private static final String PROPERTY = "iidca.fixtures";
  private static final String DEFAULT_ROOT = "/work/shared/fixtures";

  private Fixtures() {}

  /**
   * Returns the fixtures folder of one cloud, failing the test if it does not exist.
   *
   * @param folder the folder under the fixtures root, such as {@code aws}
   * @param cloud the cloud's name in the failure message, such as {@code AWS}
   */
  public static Path cloudFolder(String folder, String cloud) {
    String configured = System.getProperty(PROPERTY);
    Path root = Path.of(configured == null || configured.isBlank() ? DEFAULT_ROOT : configured);
    Path path = root.resolve(folder);
    assertThat(path)
        .as("%s fixtures folder (set system property %s to the fixtures root)", cloud, PROPERTY)
        .isDirectory();
    return path;
  }

  /** Returns {@code cloudFolder/folder/file}, failing the test if it does not exist. */
  public static Path file(Path cloudFolder, String folder, String file) {
    Path path = cloudFolder.resolve(folder).resolve(file);
    assertThat(path).as("fixture file").isRegularFile();
    return path;
  }

  /** Returns the bytes of {@code path}, raising {@link UncheckedIOException} on a read error. */
  public static byte[] readBytes(Path path) {
    try {
      return Files.readAllBytes(path);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Returns the text of {@code path} decoded as UTF-8, raising {@link UncheckedIOException} on a
   * read error.
   */
  public static String readString(Path path) {
    try {
      return Files.readString(path);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
