package io.iidca.ca.aws;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the real AWS instance identity documents that the tests verify, under the folder named
 * by the system property {@code iidca.fixtures} (the parent pom's Surefire configuration sets it)
 * or else under a fixed default. A missing folder fails the test instead of skipping it.
 */
final class AwsFixtures {

  private static final String PROPERTY = "iidca.fixtures";
  private static final String DEFAULT_ROOT = "/work/shared/fixtures";

  private AwsFixtures() {}

  /** Returns the {@code aws} fixtures folder, failing the test if it does not exist. */
  static Path aws() {
    String configured = System.getProperty(PROPERTY);
    Path root = Path.of(configured == null || configured.isBlank() ? DEFAULT_ROOT : configured);
    Path aws = root.resolve("aws");
    assertThat(aws)
        .as("AWS fixtures folder (set system property %s to the fixtures root)", PROPERTY)
        .isDirectory();
    return aws;
  }

  /** Returns one fixture file, failing the test if it does not exist. */
  static Path path(String folder, String file) {
    Path path = aws().resolve(folder).resolve(file);
    assertThat(path).as("fixture file").isRegularFile();
    return path;
  }

  static byte[] read(String folder, String file) {
    try {
      return Files.readAllBytes(path(folder, file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
