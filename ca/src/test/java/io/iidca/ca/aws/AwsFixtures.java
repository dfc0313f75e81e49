package io.iidca.ca.aws;

import io.iidca.ca.testing.Fixtures;
import java.nio.file.Path;

/**
 * Locates the real AWS instance identity documents that the tests verify, under {@code aws/} in
 * the fixtures root that {@link Fixtures} finds. A missing folder fails the test instead of
 * skipping it.
 */
final class AwsFixtures {

  private AwsFixtures() {}

  /** Returns the {@code aws} fixtures folder, failing the test if it does not exist. */
  static Path aws() {
    return Fixtures.cloudFolder("aws", "AWS");
  }

  /** Returns one fixture file, failing the test if it does not exist. */
  static Path path(String folder, String file) {
    return Fixtures.file(aws(), folder, file);
  }

  static byte[] read(String folder, String file) {
    return Fixtures.readBytes(path(folder, file));
  }
}
