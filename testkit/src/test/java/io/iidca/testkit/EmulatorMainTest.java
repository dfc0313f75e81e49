package io.iidca.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.iidca.ca.pki.Pem;
import io.iidca.testkit.aws.AwsMetadataEmulator;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EmulatorMainTest {

  @TempDir
  Path directory;

  private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
  private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
  private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

  @Test
  void startWritesCertificates() throws Exception {
    Path certificates = directory.resolve("aws-test.pem");

    try (AwsMetadataEmulator emulator = (AwsMetadataEmulator) EmulatorMain.start(new String[] {"aws",
        "--listen", "127.0.0.1:0", "--account", "444455556666", "--region", "eu-west-1",
        "--instance-id", "i-0123456789abcdef0", "--private-ip", "10.9.8.7",
        "--pending-time", "2022-03-25T20:07:16Z", "--certificate-out", certificates.toString()},
        out)) {

      assertThat(Pem.readCertificates(certificates))
          .containsExactlyElementsOf(emulator.signer().certificates());
      assertThat(Files.getPosixFilePermissions(certificates))
          .isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
      assertThat(directory.toFile().list()).containsExactly("aws-test.pem");
      assertThat(outBytes.toString(StandardCharsets.UTF_8)).isEqualTo(
          "iidca-emulator: AWS metadata service on " + emulator.endpoint()
              + " (account 444455556666, instance i-0123456789abcdef0, region eu-west-1)\n");
      assertThat(emulator.instance().privateIp()).isEqualTo("10.9.8.7");
      assertThat(emulator.instance().pendingTime())
          .isEqualTo(Instant.parse("2022-03-25T20:07:16Z"));
      assertThat(fetch(emulator, "/latest/meta-data/local-hostname"))
          .isEqualTo("ip-10-9-8-7.eu-west-1.compute.internal");
    }
  }

  @Test
  void startUsesDefaults() throws Exception {
    Path certificates = directory.resolve("certs.pem");

    try (AwsMetadataEmulator emulator = (AwsMetadataEmulator) EmulatorMain.start(new String[] {"aws", "--listen",
        "127.0.0.1:0", "--account", "111122223333", "--certificate-out",
        certificates.toString()}, out)) {

      assertThat(emulator.instance().region()).isEqualTo("us-east-1");
      assertThat(emulator.instance().instanceId()).matches("i-[0-9a-f]{17}");
      assertThat(emulator.instance().privateIp()).startsWith("10.");
      assertThat(emulator.endpoint().getHost()).isEqualTo("127.0.0.1");
      assertThat(fetch(emulator, "/latest/meta-data/placement/region")).isEqualTo("us-east-1");
    }
  }

  @Test
  void startReplacesCertificateFile() throws Exception {
    Path certificates = directory.resolve("certs.pem");
    Files.writeString(certificates, "old content");

    try (AwsMetadataEmulator emulator = (AwsMetadataEmulator) EmulatorMain.start(new String[] {"aws", "--listen",
        "127.0.0.1:0", "--account", "111122223333", "--certificate-out",
        certificates.toString()}, out)) {

      assertThat(Files.readString(certificates)).isEqualTo(emulator.signer().certificatesPem());
    }
  }

  // In each command line, C stands for a certificate file path and AWS for
  // "aws --account 111122223333 --certificate-out C".
  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
      "\"\"                                | missing provider, expected aws, gcp or azure",
      "oci --account 111122223333          | unknown provider 'oci', expected aws, gcp or azure",
      "gcp --account 111122223333          | Unrecognized option: --account",
      "aws --certificate-out C             | missing required option --account",
      "aws --account 111122223333          | missing required option --certificate-out",
      "aws --account 12345 --certificate-out C | accountId '12345' is invalid",
      "AWS --region Mars                   | region 'Mars' is invalid",
      "AWS --instance-id i-zz              | instanceId 'i-zz' is invalid",
      "AWS --private-ip 10.0.0.300         | privateIp '10.0.0.300' is invalid",
      "AWS --pending-time yesterday        | invalid --pending-time 'yesterday'",
      "AWS --listen 127.0.0.1              | invalid --listen '127.0.0.1'",
      "AWS --listen 127.0.0.1:70000        | invalid --listen '127.0.0.1:70000'",
      "AWS --listen :8169                  | invalid --listen ':8169'",
      "AWS --colour red                    | Unrecognized option: --colour",
      "AWS --acc 1                         | Unrecognized option: --acc",
      "AWS extra                           | unexpected argument 'extra'",
      "AWS --account 444455556666          | option --account is given 2 times, expected once",
      "AWS --region                        | Missing argument for option: region",
  })
  void badArgumentsExitTwo(String commandLine, String message) {
    String expanded = commandLine.replace("AWS", "aws --account 111122223333 --certificate-out C");
    List<String> args = new ArrayList<>();
    for (String word : expanded.split(" +")) {
      if (!word.isEmpty()) {
        args.add(word.equals("C") ? directory.resolve("c.pem").toString() : word);
      }
    }

    int code = EmulatorMain.run(args.toArray(new String[0]), out, err);

    assertThat(code).isEqualTo(2);
    assertThat(errBytes.toString(StandardCharsets.UTF_8))
        .startsWith("iidca-emulator: ")
        .contains(message)
        .contains("--help");
    assertThat(outBytes.toString(StandardCharsets.UTF_8)).isEmpty();
    assertThat(directory.resolve("c.pem")).doesNotExist();
  }

  @Test
  void helpPrintsUsage() {
    int code = EmulatorMain.run(new String[] {"--help"}, out, err);

    assertThat(code).isZero();
    assertThat(outBytes.toString(StandardCharsets.UTF_8))
        .startsWith("Usage: iidca-emulator aws --account ID --certificate-out FILE")
        .contains("--listen HOST:PORT")
        .contains("--drop-token-put");
    assertThat(errBytes.toString(StandardCharsets.UTF_8)).isEmpty();
  }

  @Test
  void portInUseFails() throws Exception {
    Path certificates = directory.resolve("certs.pem");
    try (ServerSocket busy = new ServerSocket()) {
      busy.bind(new InetSocketAddress("127.0.0.1", 0));
      String listen = "127.0.0.1:" + busy.getLocalPort();

      int code = EmulatorMain.run(new String[] {"aws", "--listen", listen, "--account",
          "111122223333", "--certificate-out", certificates.toString()}, out, err);

      assertThat(code).isEqualTo(1);
      assertThat(errBytes.toString(StandardCharsets.UTF_8))
          .startsWith("iidca-emulator: aws-imds: cannot listen on " + listen);
      assertThat(certificates).doesNotExist();
    }
  }

  @Test
  void unwritableCertificateFileFails() {
    Path certificates = directory.resolve("no-such-directory").resolve("certs.pem");

    int code = EmulatorMain.run(new String[] {"aws", "--listen", "127.0.0.1:0", "--account",
        "111122223333", "--certificate-out", certificates.toString()}, out, err);

    assertThat(code).isEqualTo(1);
    assertThat(errBytes.toString(StandardCharsets.UTF_8))
        .startsWith("iidca-emulator: cannot write --certificate-out " + certificates);
    assertThat(outBytes.toString(StandardCharsets.UTF_8)).isEmpty();
  }

  @ParameterizedTest
  @CsvSource({
      "127.0.0.1:8169, 127.0.0.1, 8169",
      "[::1]:0, 0:0:0:0:0:0:0:1, 0",
      "0.0.0.0:65535, 0.0.0.0, 65535",
  })
  void listenParsesHostAndPort(String text, String address, int port) throws Exception {
    InetSocketAddress parsed = CommandOptions.parseListen(text);

    assertThat(parsed.getAddress().getHostAddress()).isEqualTo(address);
    assertThat(parsed.getPort()).isEqualTo(port);
  }

  private static String fetch(AwsMetadataEmulator emulator, String path) throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    HttpResponse<String> response = client.send(
        HttpRequest.newBuilder(emulator.endpoint().resolve(path))
            .timeout(Duration.ofSeconds(30))
            .build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    return response.body();
  }
}
