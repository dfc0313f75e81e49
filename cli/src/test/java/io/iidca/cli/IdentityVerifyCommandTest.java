package io.iidca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code iidca identity verify aws} on the real signed documents captured from EC2 instances:
 * each is accepted as of its own pendingTime, and rejected once a byte changes.
 */
class IdentityVerifyCommandTest {

  static final Path FIXTURES = Path.of(System.getProperty("iidca.fixtures",
      "/work/shared/fixtures")).resolve("aws");

  @TempDir
  Path directory;

  /** Every fixture folder's document with each signature form it holds. */
  static Stream<Arguments> realDocuments() throws IOException {
    assertThat(FIXTURES).as("fixtures folder (system property iidca.fixtures)").isDirectory();
    List<Arguments> rows = new ArrayList<>();
    try (Stream<Path> folders = Files.list(FIXTURES)) {
      for (Path folder : folders.sorted().toList()) {
        Path document = folder.resolve("document.json");
        if (!Files.exists(document)) {
          continue;
        }
        for (String[] form : new String[][] {{"rsa2048", "rsa2048.der"},
            {"rsa2048", "rsa2048.b64"}, {"signature", "signature.b64"},
            {"pkcs7", "pkcs7.der"}}) {
          Path signature = folder.resolve(form[1]);
          if (Files.exists(signature)) {
            rows.add(Arguments.of(folder.getFileName().toString(), form[0], signature,
                document, !folder.getFileName().toString().startsWith("NEGATIVE")));
          }
        }
      }
    }
    assertThat(rows).hasSizeGreaterThan(8);
    return rows.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("realDocuments")
  void realDocumentVerifiesAsOfPendingTime(String name, String form, Path signature,
      Path document, boolean genuine) {
    CliRunner.Result result = new CliRunner(directory.toString()).run("identity", "verify",
        "aws", "--document", document.toString(), "--" + form, signature.toString(), "--at",
        "pending-time");

    if (genuine) {
      assertThat(result.status()).as(result.err()).isZero();
      assertThat(result.out()).contains("\"verified\" : true", "\"instanceId\"");
    } else {
      assertThat(result.status()).isNotZero();
      assertThat(result.out()).isEmpty();
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("realDocuments")
  void alteredDocumentIsRejected(String name, String form, Path signature, Path document,
      boolean genuine) throws IOException {
    byte[] bytes = Files.readAllBytes(document);
    String text = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    int at = text.indexOf("i-") + 3;
    bytes[at] = (byte) (bytes[at] == 'a' ? 'b' : 'a');
    Path altered = Files.write(directory.resolve("altered.json"), bytes);

    CliRunner.Result result = new CliRunner(directory.toString()).run("identity", "verify",
        "aws", "--document", altered.toString(), "--" + form, signature.toString(), "--at",
        "pending-time");

    assertThat(result.status()).isEqualTo(1);
    assertThat(result.err()).contains("not verified", "verify-aws");
  }

  @Test
  void negativeSignaturesAreRejected() throws IOException {
    Path folder = FIXTURES.resolve("taskcluster-worker-manager-signature-usw2-2019");
    for (String negative : List.of("NEG_signature_badKey.b64", "NEG_signature_badSignature.b64")) {
      CliRunner.Result result = new CliRunner(directory.toString()).run("identity", "verify",
          "aws", "--document", folder.resolve("document.json").toString(), "--signature",
          folder.resolve(negative).toString(), "--at", "pending-time");
      assertThat(result.status()).as(negative).isEqualTo(1);
    }
  }

  @Test
  void verificationAfterCertificateExpiryIsRejected() {
    Path folder = FIXTURES.resolve("teleport-join_ec2_test-instance1-usw2-2021");

    CliRunner.Result result = new CliRunner(directory.toString()).run("identity", "verify",
        "aws", "--document", folder.resolve("document.json").toString(), "--rsa2048",
        folder.resolve("rsa2048.der").toString(), "--at", "1999-01-01T00:00:00Z");

    assertThat(result.status()).isEqualTo(1);
  }

  @Test
  void missingSignatureOptionIsUsageError() {
    CliRunner.Result result = new CliRunner(directory.toString()).run("identity", "verify",
        "aws", "--document", "x.json");

    assertThat(result.status()).isEqualTo(2);
    assertThat(result.err()).contains("--rsa2048, --signature, --pkcs7");
  }
}
