package io.iidca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.commons.cli.DefaultParser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code iidca identity verify azure} on the real Azure fixtures. */
class AzureIdentityCheckTest {

  static final Path FIXTURES = Path.of(System.getProperty("iidca.fixtures",
      "/work/shared/fixtures")).resolve("azure");
  static final String TOKEN = FIXTURES.resolve("mi-token-cosmosdb-demo-vm-2021/token.jwt")
      .toString();
  static final String CERT = FIXTURES.resolve(
      "mi-token-cosmosdb-demo-vm-2021/entra-signing-cert-x5c.pem").toString();
  static final String DOCUMENT = FIXTURES.resolve(
      "taskcluster-wm-2025-04-23-azureRSATLSCA03/signature.b64").toString();

  @BeforeAll
  static void fixturesExist() {
    assertThat(FIXTURES).as("fixtures folder (system property iidca.fixtures)").isDirectory();
  }

  /** The exit code, standard output and standard error of one run. */
  record Result(int code, String out, String err) {}

  static Result run(String... args) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = AzureIdentityCheck.run(
        DefaultParser.builder().get().parse(AzureIdentityCheck.options(), args),
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(code, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void realTokenIsVerifiedAsOfIat() throws Exception {
    Result result = run("--token", TOKEN, "--keys", CERT, "--at", "iat",
        "--tenant", "a14f3c13-2bd5-49c9-8c2b-9c35b21398ce");
    JsonNode json = new ObjectMapper().readTree(result.out());

    assertThat(result.code()).as(result.err()).isEqualTo(0);
    assertThat(json.get("tenantChecked").asBoolean()).isTrue();
    assertThat(json.get("audienceChecked").asBoolean()).isFalse();
    assertThat(json.get("vmName").asText()).isEqualTo("demo-vm");
    assertThat(json.get("subscriptionId").asText())
        .isEqualTo("ba11dd43-5df0-464d-868f-fd3a7503e680");
    assertThat(json.get("at").asText()).isEqualTo("2021-07-28T15:32:22Z");
  }

  @Test
  void realTokenIsRejectedNow() throws Exception {
    Result result = run("--token", TOKEN, "--keys", CERT);

    assertThat(result.code()).isEqualTo(1);
    assertThat(result.err()).contains("not verified: token expired at 2021-07-29T15:37:22Z");
  }

  @Test
  void realTokenOfOtherTenantIsRejected() throws Exception {
    Result result = run("--token", TOKEN, "--keys", CERT, "--at", "iat",
        "--tenant", "72f988bf-86f1-41af-91ab-2d7cd011db47");

    assertThat(result.code()).isEqualTo(1);
    assertThat(result.err()).contains("token iss"
        + " https://sts.windows.net/a14f3c13-2bd5-49c9-8c2b-9c35b21398ce/ is not one of");
  }

  @Test
  void realDocumentIsVerifiedAsOfCreation() throws Exception {
    Result result = run("--attested", DOCUMENT, "--at", "createdOn");
    JsonNode json = new ObjectMapper().readTree(result.out());

    assertThat(result.code()).as(result.err()).isEqualTo(0);
    assertThat(json.get("nonce").asText()).isEqualTo("20250423-222358");
    assertThat(json.get("vmId").asText()).isEqualTo("f9cc27a0-2d12-40cf-adc9-7a676efec010");
    assertThat(json.get("createdOn").asText()).isEqualTo("2025-04-23T16:23:58Z");
    assertThat(json.get("signer").asText()).contains("CN=metadata.azure.com");
  }

  @Test
  void imdsJsonFileIsAccepted(@TempDir Path directory) throws Exception {
    Path file = directory.resolve("attested.json");
    Files.writeString(file, "{\"encoding\":\"pkcs7\",\"signature\":\""
        + Files.readString(Path.of(DOCUMENT)).replaceAll("\\s", "") + "\"}");

    assertThat(run("--attested", file.toString(), "--at", "createdOn").code()).isEqualTo(0);
  }

  @Test
  void realDocumentIsRejectedNow() throws Exception {
    Result result = run("--attested", DOCUMENT);

    assertThat(result.code()).isEqualTo(1);
    assertThat(result.err()).contains("not verified: attested document");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "--at iat|pass exactly one of --token FILE and --attested FILE",
      "--token TOKEN --attested DOCUMENT|pass exactly one of --token FILE and --attested FILE",
      "--token TOKEN|missing required option --keys FILE",
      "--attested DOCUMENT --keys CERT|--keys applies to --token only",
      "--token TOKEN --keys CERT --roots CERT|--roots applies to --attested only",
      "--attested /nonexistent/file|--attested /nonexistent/file: file not found",
      "--attested DOCUMENT --at yesterday|--at yesterday is not an RFC 3339 time"})
  void misuseExitsWithUsage(String arguments, String message) throws Exception {
    String[] args = arguments.replace("TOKEN", TOKEN).replace("DOCUMENT", DOCUMENT)
        .replace("CERT", CERT).split(" ");

    Result result = run(args);

    assertThat(result.code()).isEqualTo(2);
    assertThat(result.err()).contains(message);
  }
}
