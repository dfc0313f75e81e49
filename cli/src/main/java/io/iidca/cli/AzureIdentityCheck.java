package io.iidca.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iidca.ca.azure.AttestedDocument;
import io.iidca.ca.azure.AttestedDocumentVerifier;
import io.iidca.ca.azure.AzureKeySource;
import io.iidca.ca.azure.AzureToken;
import io.iidca.ca.azure.AzureTokenVerifier;
import io.iidca.ca.azure.TenantKeys;
import io.iidca.ca.azure.VerifiedAzureToken;
import io.iidca.ca.config.AzureOptions;
import io.iidca.ca.error.IidcaException;
import io.iidca.ca.pki.Pem;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.text.ParseException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code iidca identity verify azure}: verifies a saved managed-identity token ({@code --token},
 * with the checks of {@link AzureTokenVerifier}) or a saved attested document ({@code
 * --attested}, with {@link AttestedDocumentVerifier}) offline, and prints what was verified as
 * JSON.
 *
 * <p>Token keys come only from {@code --keys} (a JWKS or PEM certificates); nothing is fetched.
 * Without {@code --tenant} or {@code --audience}, the token's own {@code tid} or {@code aud} is
 * used and the output sets {@code tenantChecked} or {@code audienceChecked} to false. The attested
 * document is checked against Microsoft's shipped chain plus {@code --roots}; its nonce is
 * printed, not compared. No provisioner restriction applies: this is an inspection tool, not a
 * policy. Stateless.
 */
final class AzureIdentityCheck {

  static final int EXIT_VERIFIED = 0;
  static final int EXIT_REJECTED = 1;
  static final int EXIT_USAGE = 2;

  private static final String COMMAND = "iidca identity verify azure";

  private AzureIdentityCheck() {}

  /** Returns the command's options. */
  static Options options() {
    return new Options()
        .addOption(valued("token", "FILE", "the managed-identity access token (JWT), as IMDS"
            + " returned it in access_token"))
        .addOption(valued("attested", "FILE", "the attested document: the base64 signature,"
            + " or the JSON that /metadata/attested/document returned"))
        .addOption(valued("keys", "FILE", "the tenant's signing keys for --token: a JSON Web"
            + " Key Set or PEM certificates"))
        .addOption(valued("roots", "FILE", "PEM certificates to trust for --attested beside"
            + " Microsoft's; self-signed ones as roots, others as intermediates"))
        .addOption(valued("at", "TIME", "verify as of this RFC 3339 time, 'iat' for the"
            + " token's issue time, or 'createdOn' for the document's (default now)"))
        .addOption(valued("tenant", "ID", "the tenant id the token must carry (default: not"
            + " compared)"))
        .addOption(valued("audience", "A", "the aud the token must carry (default: not"
            + " compared)"))
        .addOption(Option.builder().longOpt("help").desc("show this help").get());
  }

  /**
   * Verifies what the options name and prints the result to {@code out}, or the reason for
   * rejection or misuse to {@code err}.
   *
   * @return {@value #EXIT_VERIFIED} when verified, {@value #EXIT_REJECTED} when rejected,
   *     {@value #EXIT_USAGE} on invalid options or files
   */
  static int run(CommandLine line, PrintStream out, PrintStream err) {
    try {
      if (!line.getArgList().isEmpty()) {
        throw new UsageException("unexpected argument '" + line.getArgList().get(0) + "'");
      }
      if (line.hasOption("token") == line.hasOption("attested")) {
        throw new UsageException("pass exactly one of --token FILE and --attested FILE");
      }
      String json = line.hasOption("token") ? verifyToken(line) : verifyAttested(line);
      out.println(json);
      return EXIT_VERIFIED;
    } catch (UsageException e) {
      err.println(COMMAND + ": " + e.getMessage());
      return EXIT_USAGE;
    } catch (IidcaException e) {
      err.println(COMMAND + ": not verified: " + e.reason());
      return EXIT_REJECTED;
    }
  }

  private static String verifyToken(CommandLine line) throws UsageException {
    if (line.hasOption("roots")) {
      throw new UsageException("--roots applies to --attested only");
    }
    String text = read(line.getOptionValue("token"), "--token").strip();
    AzureToken token = AzureToken.parse(text);
    String tenant = line.getOptionValue("tenant", claim(token, "tid"));
    String audience = line.getOptionValue("audience",
        token.claims().getAudience().isEmpty() ? null : token.claims().getAudience().get(0));
    if (tenant == null || audience == null) {
      throw new UsageException("--token: the token has no tid or aud; pass --tenant and"
          + " --audience");
    }
    if (!line.hasOption("keys")) {
      throw new UsageException("missing required option --keys FILE for --token");
    }
    AzureKeySource keys;
    try {
      keys = TenantKeys.fixed(read(line.getOptionValue("keys"), "--keys"),
          "https://login.microsoftonline.com/" + tenant + "/v2.0");
    } catch (IllegalArgumentException e) {
      throw new UsageException("--keys " + line.getOptionValue("keys") + ": " + e.getMessage());
    }

    AzureOptions options = new AzureOptions(tenant, AzureOptions.PUBLIC_CLOUD, audience,
        List.of(), List.of(), List.of(), null, false, List.of());
    Instant at = tokenTime(line.getOptionValue("at"), token);
    VerifiedAzureToken verified = new AzureTokenVerifier(options, keys).verify(token, at);

    Map<String, Object> result = new LinkedHashMap<>();
    result.put("verified", true);
    result.put("at", at.toString());
    result.put("tenantId", verified.tenantId());
    result.put("tenantChecked", line.hasOption("tenant"));
    result.put("audience", audience);
    result.put("audienceChecked", line.hasOption("audience"));
    result.put("objectId", verified.objectId());
    result.put("resourceId", verified.resource().text());
    result.put("subscriptionId", verified.resource().subscriptionId());
    result.put("resourceGroup", verified.resource().resourceGroup());
    result.put("vmName", verified.resource().vmName());
    result.put("expiresAt", verified.expiry().toString());
    return json(result);
  }

  private static String verifyAttested(CommandLine line) throws UsageException {
    for (String tokenOnly : new String[] {"keys", "tenant", "audience"}) {
      if (line.hasOption(tokenOnly)) {
        throw new UsageException("--" + tokenOnly + " applies to --token only");
      }
    }
    String signature = AttestedDocumentVerifier.signatureOf(
        read(line.getOptionValue("attested"), "--attested"));
    List<X509Certificate> roots = List.of();
    if (line.hasOption("roots")) {
      try {
        roots = Pem.parseCertificates(read(line.getOptionValue("roots"), "--roots")
            .getBytes(StandardCharsets.US_ASCII));
      } catch (CertificateException e) {
        throw new UsageException("--roots " + line.getOptionValue("roots") + ": not PEM"
            + " certificates: " + e.getMessage());
      }
    }

    AttestedDocumentVerifier verifier =
        AttestedDocumentVerifier.forCloud(AzureOptions.PUBLIC_CLOUD, roots);
    String when = line.getOptionValue("at");
    Instant at = "createdOn".equals(when)
        ? AttestedDocumentVerifier.unverifiedCreatedOn(signature) : time(when);
    AttestedDocument document = verifier.verify(signature, at);

    Map<String, Object> result = new LinkedHashMap<>();
    result.put("verified", true);
    result.put("at", at.toString());
    result.put("nonce", document.nonce());
    result.put("vmId", document.vmId());
    result.put("subscriptionId", document.subscriptionId());
    result.put("createdOn", document.createdOn().toString());
    result.put("expiresOn", document.expiresOn().toString());
    result.put("signer", document.signer().getSubjectX500Principal().getName());
    result.put("signerIssuer", document.signer().getIssuerX500Principal().getName());
    return json(result);
  }

  private static Instant tokenTime(String value, AzureToken token) throws UsageException {
    if ("iat".equals(value)) {
      if (token.claims().getIssueTime() == null) {
        throw new UsageException("--at iat: the token has no iat claim");
      }
      return token.claims().getIssueTime().toInstant();
    }
    return time(value);
  }

  private static Instant time(String value) throws UsageException {
    if (value == null) {
      return Instant.now();
    }
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw new UsageException("--at " + value + " is not an RFC 3339 time such as"
          + " 2024-05-01T12:00:00Z, nor iat or createdOn");
    }
  }

  private static String claim(AzureToken token, String name) {
    try {
      return token.claims().getStringClaim(name);
    } catch (ParseException e) {
      return null;
    }
  }

  private static String json(Map<String, Object> result) {
    try {
      return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(result);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a map of strings always serializes", e);
    }
  }

  private static Option valued(String name, String argument, String description) {
    return Option.builder().longOpt(name).hasArg().argName(argument).desc(description).get();
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
