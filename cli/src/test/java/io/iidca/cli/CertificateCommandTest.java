package io.iidca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Usage errors of {@code iidca certificate} that stop it before it reads the CA's defaults or
 * contacts a CA. The IIDCA_PATH is empty and the CA's URL is a closed port, so any later
 * failure would show as exit 1.
 */
class CertificateCommandTest {

  @TempDir
  Path directory;

  @Test
  void samePathTwiceIsUsageError() throws Exception {
    Path same = directory.resolve("same.pem");
    Path link = Files.createSymbolicLink(directory.resolve("link.pem"), same);
    Files.writeString(same, "old");
    String[][] cases = {
        {same.toString(), same.toString()},
        {same.toString(), directory.resolve("sub/../same.pem").toString()},
        {link.toString(), same.toString()},
    };

    for (String[] paths : cases) {
      CliRunner.Result result = new CliRunner(directory.resolve("client").toString())
          .run("certificate", "foo.local", paths[0], paths[1], "--provisioner", "AWS",
              "--ca-url", "https://127.0.0.1:1", "--root",
              directory.resolve("missing.crt").toString());

      assertThat(result.status()).as(result.err()).isEqualTo(2);
      assertThat(result.err()).contains("iidca certificate: CRT_FILE " + paths[0]
          + " and KEY_FILE " + paths[1] + " are the same file, " + same.toRealPath()
          + ": pass a different path for each");
    }
    assertThat(same).hasContent("old");
  }
}
