package io.iidca.ca.azure;

import io.iidca.ca.testing.Fixtures;
import java.nio.file.Path;

/**
 * Locates the real Azure attested documents and managed-identity token under {@code azure/} in
 * the fixtures root that {@link Fixtures} finds. A missing folder fails the test instead of
 * skipping it.
 */
final class AzureFixtures {

  private AzureFixtures() {}

  static Path azure() {
    return Fixtures.cloudFolder("azure", "Azure");
  }

  static Path path(String folder, String file) {
    return Fixtures.file(azure(), folder, file);
  }

  static String read(String folder, String file) {
    return Fixtures.readString(path(folder, file));
  }

  static byte[] bytes(String folder, String file) {
    return Fixtures.readBytes(path(folder, file));
  }
}
