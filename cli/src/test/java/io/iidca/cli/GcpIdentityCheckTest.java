package io.iidca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link GcpIdentityCheck}: real Compute Engine tokens verify offline with their Google key
 * (exit 0), altered copies and wrong audiences or times do not (exit 1), and misuse exits 2.
 */
class GcpIdentityCheckTest {

  static final Path GCP = Path.of(System.getProperty("iidca.fixtures",
      "/work/shared/fixtures")).resolve("gcp");
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path temp;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  static Stream<String> fixtures() throws Exception {
    assertThat(GCP).as("GCP fixtures folder (system property iidca.fixtures)").isDirectory();
    try (Stream<Path> folders = Files.list(GCP)) {
      return folders.map(folder -> folder.getFileName().toString()).sorted().toList().stream();
    }
  }

  private int run(String... args) throws Exception {
    CommandLine line = new DefaultParser().parse(GcpIdentityCheck.options(), args);
    return GcpIdentityCheck.run(line, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private static String file(String fixture, String name) {
    return GCP.resolve(fixture).resolve(name).toString();
  }

  private static JsonNode payload(String fixture) throws Exception {
    return JSON.readTree(GCP.resolve(fixture).resolve("payload.json").toFile());
  }

  private String output() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String errors() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void fixtureVerifies(String fixture) throws Exception {
    JsonNode payload = payload(fixture);
    JsonNode engine = payload.path("google").path("compute_engine");

    int code = run("--token", file(fixture, "token.jwt"), "--jwks",
        file(fixture, "google-jwk.json"), "--at", "iat", "--audience",
        payload.path("aud").asText());

    assertThat(code).as(errors()).isZero();
    JsonNode result = JSON.readTree(output());
    assertThat(result.path("verified").asBoolean()).isTrue();
    assertThat(result.path("audienceChecked").asBoolean()).isTrue();
    assertThat(result.path("project").asText()).isEqualTo(engine.path("project_id").asText());
    assertThat(result.path("zone").asText()).isEqualTo(engine.path("zone").asText());
    assertThat(result.path("instanceId").asText()).isEqualTo(engine.path("instance_id").asText());
    assertThat(result.path("serviceAccount").asText()).isEqualTo(payload.path("email").asText());
    assertThat(result.path("names").get(0).asText()).isEqualTo(engine.path("instance_name")
        .asText() + ".c." + engine.path("project_id").asText() + ".internal");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void fixtureWithoutAudienceIsReported(String fixture) throws Exception {
    int code = run("--token", file(fixture, "token.jwt"), "--jwks",
        file(fixture, "google-jwk.json"), "--at", "iat");

    assertThat(code).as(errors()).isZero();
    assertThat(JSON.readTree(output()).path("audienceChecked").asBoolean()).isFalse();
  }

  /** Returns rows of a fixture and the index of the part (header, payload, signature). */
  static Stream<Arguments> alterations() throws Exception {
    List<Arguments> rows = new ArrayList<>();
    for (String fixture : fixtures().toList()) {
      for (int part = 0; part < 3; part++) {
        rows.add(Arguments.of(fixture, part));
      }
    }
    return rows.stream();
  }

  @ParameterizedTest(name = "{0} part {1}")
  @MethodSource("alterations")
  void alteredCopyIsRejected(String fixture, int part) throws Exception {
    String[] parts = Files.readString(Path.of(file(fixture, "token.jwt"))).strip().split("\\.");
    byte[] bytes = Base64.getUrlDecoder().decode(parts[part]);
    bytes[bytes.length / 2] ^= 1;
    parts[part] = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    Path altered = Files.writeString(temp.resolve("token.jwt"), String.join(".", parts));
    String iat = Long.toString(payload(fixture).path("iat").asLong());

    int code = run("--token", altered.toString(), "--jwks", file(fixture, "google-jwk.json"),
        "--at", java.time.Instant.ofEpochSecond(Long.parseLong(iat)).toString());

    assertThat(code).as(errors()).isEqualTo(1);
    assertThat(errors()).startsWith("iidca identity verify gcp: not verified: ");
    assertThat(output()).isEmpty();
  }

  @Test
  void wrongAudienceIsRejected() throws Exception {
    String fixture = fixtures().findFirst().orElseThrow();

    int code = run("--token", file(fixture, "token.jwt"), "--jwks",
        file(fixture, "google-jwk.json"), "--at", "iat", "--audience", "https://ca.local");

    assertThat(code).isEqualTo(1);
    assertThat(errors()).contains("is not https://ca.local");
  }

  @Test
  void expiredTokenIsRejectedNow() throws Exception {
    String fixture = fixtures().findFirst().orElseThrow();

    int code = run("--token", file(fixture, "token.jwt"), "--jwks",
        file(fixture, "google-jwk.json"));

    assertThat(code).isEqualTo(1);
    assertThat(errors()).contains("token expired at");
  }

  @Test
  void keySetFileVerifies() throws Exception {
    String fixture = "smallstep-cli-token-parse_test-kops-admin-2019";

    int code = run("--token", file(fixture, "token.jwt"), "--jwks",
        file(fixture, "google-jwks.json"), "--at", "iat");

    assertThat(code).as(errors()).isZero();
  }

  /** Returns rows of arguments that are misuse, and the start of the message. */
  static Stream<Arguments> usageErrors() {
    String fixture = "istio-citadel-vm-test-2019";
    String token = file(fixture, "token.jwt");
    String jwk = file(fixture, "google-jwk.json");
    return Stream.of(
        Arguments.of(List.of("--jwks", jwk), "missing required option --token FILE"),
        Arguments.of(List.of("--token", token), "pass exactly one of --jwks FILE and"
            + " --google-keys"),
        Arguments.of(List.of("--token", token, "--jwks", jwk, "--google-keys"),
            "pass exactly one of --jwks FILE and --google-keys"),
        Arguments.of(List.of("--token", "/nonexistent/token.jwt", "--jwks", jwk),
            "--token /nonexistent/token.jwt: file not found"),
        Arguments.of(List.of("--token", token, "--jwks", token),
            "--jwks " + token + ": not a usable JSON Web Key Set or JSON Web Key"),
        Arguments.of(List.of("--token", token, "--jwks", jwk, "--at", "yesterday"),
            "--at yesterday is not an RFC 3339 time"),
        Arguments.of(List.of("--token", token, "--jwks", jwk, "extra"),
            "unexpected argument 'extra'"));
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("usageErrors")
  void misuseExitsTwo(List<String> args, String message) throws Exception {
    int code = run(args.toArray(String[]::new));

    assertThat(code).isEqualTo(2);
    assertThat(errors()).startsWith("iidca identity verify gcp: " + message);
    assertThat(output()).isEmpty();
  }
}
