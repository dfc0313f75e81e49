package io.iidca.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.ca.pki.Pem;
import io.iidca.testkit.EmulatorMain.UsageException;
import io.iidca.testkit.azure.AzureMetadataEmulator;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The emulator's azure command: options, the roots file and the start line. */
class AzureCommandTest {

  private static final String TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

  @Test
  void startWritesRootsAndPrintsEndpoint(@TempDir Path directory) throws Exception {
    Path roots = directory.resolve("roots.pem");
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    try (AzureMetadataEmulator emulator = AzureCommand.parse(new String[] {"--tenant", TENANT,
        "--roots-out", roots.toString(), "--listen", "127.0.0.1:0", "--vm-name", "build-7"})
        .start(new PrintStream(out, true, StandardCharsets.UTF_8))) {
      assertThat(Pem.readCertificates(roots)).hasSize(2);
      assertThat(out.toString(StandardCharsets.UTF_8))
          .contains("Azure metadata service on " + emulator.endpoint())
          .contains("tenant " + TENANT)
          .contains("vm build-7");
      assertThat(emulator.instance().vmName()).isEqualTo("build-7");
    }
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "--roots-out r.pem|missing required option --tenant",
      "--tenant " + TENANT + "|missing required option --roots-out",
      "--tenant not-a-guid --roots-out r.pem|invalid tenant id 'not-a-guid'",
      "--tenant " + TENANT + " --roots-out r.pem --vm-id x|invalid vm id 'x'",
      "--tenant " + TENANT + " --roots-out r.pem --listen nowhere|invalid --listen 'nowhere'",
      "--tenant " + TENANT + " --roots-out r.pem extra|unexpected argument 'extra'"})
  void invalidOptionsAreRejected(String arguments, String message) {
    assertThatThrownBy(() -> AzureCommand.parse(arguments.split(" ")))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining(message);
  }
}
