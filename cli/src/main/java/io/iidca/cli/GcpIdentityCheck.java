package io.iidca.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.config.GcpOptions;
import io.iidca.ca.error.IidcaException;
import io.iidca.ca.gcp.GcpIdentityToken;
import io.iidca.ca.gcp.GcpTokenVerifier;
import io.iidca.ca.gcp.GcpTokenVerifier.AudienceRule;
import io.iidca.ca.gcp.GoogleKeySource;
import io.iidca.ca.gcp.GoogleKeys;
import io.iidca.ca.provisioner.GcpProvisioner;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code iidca identity verify gcp}: verifies a saved Compute Engine instance identity token
 * offline, with the checks of {@link GcpTokenVerifier}, and prints the identity as JSON.
 *
 * <p>Google's keys come from a file ({@code --jwks}, a key set or a single key), or, only when
 * the user passes {@code --google-keys}, from Google's public URL. The audience is compared
 * only when {@code --audience} is given, and the output field {@code audienceChecked} states
 * whether it was. No provisioner restriction (project, service account, zone, instance age)
 * applies, because this is an inspection tool, not a policy. Stateless.
 */
final class GcpIdentityCheck {

  static final int EXIT_VERIFIED = 0;
  static final int EXIT_REJECTED = 1;
  static final int EXIT_USAGE = 2;

  private static final String COMMAND = "iidca identity verify gcp";

  private GcpIdentityCheck() {}

  /** Returns the command's options. */
  static Options options() {
    return new Options()
        .addOption(Option.builder().longOpt("token").hasArg().argName("FILE")
            .desc("the identity token, as the metadata server returned it").get())
        .addOption(Option.builder().longOpt("jwks").hasArg().argName("FILE")
            .desc("Google's signing keys: a JSON Web Key Set, or one JSON Web Key").get())
        .addOption(Option.builder().longOpt("google-keys")
            .desc("fetch Google's signing keys from " + GcpOptions.GOOGLE_JWKS_URL
                + " instead of --jwks").get())
        .addOption(Option.builder().longOpt("at").hasArg().argName("TIME")
            .desc("verify as of this RFC 3339 time, or 'iat' for the token's own issue time"
                + " (default now)").get())
        .addOption(Option.builder().longOpt("audience").hasArg().argName("A")
            .desc("the exact aud the token must carry (default: not compared)").get())
        .addOption(Option.builder().longOpt("help").desc("show this help").get());
  }

  /**
   * Verifies the token that the options name and prints the identity to {@code out}, or the
   * reason for rejection or misuse to {@code err}.
   *
   * @return {@value #EXIT_VERIFIED} when verified, {@value #EXIT_REJECTED} when rejected or
   *     Google's keys cannot be fetched, {@value #EXIT_USAGE} on invalid options or files
   */
  static int run(CommandLine line, PrintStream out, PrintStream err) {
    try {
      return verify(line, out, err);
    } catch (UsageException e) {
      err.println(COMMAND + ": " + e.getMessage());
      return EXIT_USAGE;
    }
  }

  private static int verify(CommandLine line, PrintStream out, PrintStream err)
      throws UsageException {
    if (!line.getArgList().isEmpty()) {
      throw new UsageException("unexpected argument '" + line.getArgList().get(0) + "'");
    }
    if (!line.hasOption("token")) {
      throw new UsageException("missing required option --token FILE");
    }
    String token = read(line.getOptionValue("token"), "--token").strip();
    GoogleKeySource keys = keys(line);
    String audience = line.getOptionValue("audience");
    AudienceRule rule = audience == null ? anyAudience() : AudienceRule.exactly(audience);
    try {
      Instant at = at(line.getOptionValue("at"), token);
      GcpIdentityToken verified = new GcpTokenVerifier(keys, GcpOptions.DEFAULT_LEEWAY, COMMAND)
          .verify(token, rule, at);
      out.println(toJson(verified, at, audience != null));
      return EXIT_VERIFIED;
    } catch (IidcaException e) {
      err.println(COMMAND + ": not verified: " + e.reason());
      return EXIT_REJECTED;
    }
  }

  private static GoogleKeySource keys(CommandLine line) throws UsageException {
    boolean fetch = line.hasOption("google-keys");
    String file = line.getOptionValue("jwks");
    if (fetch == (file != null)) {
      throw new UsageException("pass exactly one of --jwks FILE and --google-keys (which"
          + " fetches " + GcpOptions.GOOGLE_JWKS_URL + ")");
    }
    if (fetch) {
      return GoogleKeys.fetching(URI.create(GcpOptions.GOOGLE_JWKS_URL));
    }
    String text = read(file, "--jwks");
    try {
      JWKSet set = JSONObjectUtils.parse(text).containsKey("keys")
          ? JWKSet.parse(text) : new JWKSet(JWK.parse(text));
      return GoogleKeys.fixed(set, file);
    } catch (ParseException | IllegalArgumentException e) {
      throw new UsageException("--jwks " + file + ": not a usable JSON Web Key Set or JSON Web"
          + " Key: " + e.getMessage());
    }
  }

  /** Accepts every audience, for a check without {@code --audience}. */
  private static AudienceRule anyAudience() {
    return new AudienceRule() {
      @Override
      public boolean accepts(String audience) {
        return true;
      }

      @Override
      public String expected() {
        return "any audience";
      }
    };
  }

  private static Instant at(String value, String token) throws UsageException {
    if (value == null) {
      return Instant.now();
    }
    if (value.equals("iat")) {
      try {
        return SignedJWT.parse(token).getJWTClaimsSet().getIssueTime().toInstant();
      } catch (ParseException | NullPointerException e) {
        throw new UsageException("--at iat: the token has no readable iat claim");
      }
    }
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw new UsageException("--at " + value + " is not an RFC 3339 time such as"
          + " 2024-05-01T12:00:00Z, nor iat");
    }
  }

  private static String toJson(GcpIdentityToken token, Instant at, boolean audienceChecked) {
    var instance = token.computeEngine();
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("verified", true);
    result.put("at", at.toString());
    result.put("audience", token.audience());
    result.put("audienceChecked", audienceChecked);
    result.put("expiresAt", token.expiresAt().toString());
    result.put("project", instance.projectId());
    result.put("projectNumber", instance.projectNumber());
    result.put("zone", instance.zone());
    result.put("instanceId", instance.instanceId());
    result.put("instanceName", instance.instanceName());
    result.put("instanceCreation", instance.instanceCreation().toString());
    result.put("serviceAccount", token.email());
    result.put("serviceAccountId", token.subject());
    result.put("names", GcpProvisioner.vouchedNames(instance));
    try {
      return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(result);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a map of strings always serializes", e);
    }
  }

  private static String read(String file, String option) throws UsageException {
    try {
      return Files.readString(Path.of(file), StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new UsageException(option + " " + file + ": file not found");
    } catch (IOException e) {
      throw new UsageException(option + " " + file + ": cannot read: " + e.getMessage());
    }
  }
}
