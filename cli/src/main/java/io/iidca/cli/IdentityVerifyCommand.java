package io.iidca.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.iidca.ca.aws.AwsCertificates;
import io.iidca.ca.aws.AwsDocumentVerifier;
import io.iidca.ca.aws.AwsIdentityDocument;
import io.iidca.ca.aws.AwsSignatureForm;
import io.iidca.ca.error.IidcaException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code iidca identity verify aws}: verifies a saved AWS identity document offline, as the CA
 * would, and prints the verified identity as JSON. Every signature form is accepted here, the
 * DSA {@code pkcs7} one included, because this is an inspection tool, not a policy.
 */
final class IdentityVerifyCommand extends Command {

  IdentityVerifyCommand(Environment environment) {
    super(environment);
  }

  @Override
  String name() {
    return "identity verify aws";
  }

  @Override
  String arguments() {
    return "";
  }

  @Override
  String summary() {
    return "Verify a saved AWS instance identity document against AWS's published"
        + " certificates and print the identity as JSON; exits 1 when it does not verify.";
  }

  @Override
  Options options() {
    return new Options()
        .addOption(Option.builder().longOpt("document").hasArg().argName("FILE")
            .desc("the exact bytes of /latest/dynamic/instance-identity/document").get())
        .addOption(Option.builder().longOpt("rsa2048").hasArg().argName("FILE")
            .desc("the /rsa2048 PKCS#7, base64, PEM or DER").get())
        .addOption(Option.builder().longOpt("signature").hasArg().argName("FILE")
            .desc("the /signature, base64 or raw").get())
        .addOption(Option.builder().longOpt("pkcs7").hasArg().argName("FILE")
            .desc("the /pkcs7 PKCS#7 (DSA), base64, PEM or DER").get())
        .addOption(Option.builder().longOpt("at").hasArg().argName("TIME")
            .desc("verify as of this RFC 3339 time, or 'pending-time' for the document's"
                + " own pendingTime (default now)").get())
        .addOption(Option.builder().longOpt("certificates").hasArg().argName("FILE")
            .desc("PEM file of extra certificates to trust beside AWS's published ones").get())
        .addOption(Option.builder().longOpt("help").desc("show this help").get());
  }

  @Override
  int run(CommandLine line) throws Exception {
    positional(line, 0, "no arguments");
    AwsSignatureForm form = null;
    Path signaturePath = null;
    for (AwsSignatureForm candidate : AwsSignatureForm.values()) {
      if (line.hasOption(candidate.path())) {
        if (form != null) {
          throw new UsageException("pass exactly one of --rsa2048, --signature, --pkcs7");
        }
        form = candidate;
        signaturePath = Path.of(line.getOptionValue(candidate.path()));
      }
    }
    if (form == null) {
      throw new UsageException("pass one of --rsa2048, --signature, --pkcs7");
    }
    byte[] signature = read(signaturePath, "--" + form.path());
    byte[] document = line.hasOption("document")
        ? read(Path.of(line.getOptionValue("document")), "--document") : null;
    if (document == null && form == AwsSignatureForm.SIGNATURE) {
      throw new UsageException("--document is required with --signature");
    }
    AwsCertificates certificates = AwsCertificates.published();
    if (line.hasOption("certificates")) {
      try {
        certificates = certificates.withAdditional(AwsCertificates.load(
            Path.of(line.getOptionValue("certificates"))));
      } catch (RuntimeException e) {
        throw new UsageException("--certificates: " + e.getMessage());
      }
    }
    AwsDocumentVerifier verifier = new AwsDocumentVerifier(certificates,
        EnumSet.allOf(AwsSignatureForm.class));
    Instant at;
    try {
      at = at(line.getOptionValue("at"), document);
    } catch (IidcaException e) {
      return reject(e);
    }
    try {
      AwsIdentityDocument verified = document == null
          ? verifier.verifyEmbedded(form, signature, at)
          : verifier.verify(document, form, signature, at);
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("verified", true);
      result.put("form", form.path());
      result.put("at", at.toString());
      result.put("privateDnsName", verified.privateDnsName());
      result.put("document", verified.toJson());
      out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(
          result));
      return 0;
    } catch (IidcaException e) {
      return reject(e);
    }
  }

  private int reject(IidcaException e) {
    err.println("iidca identity verify aws: not verified: " + e.getMessage());
    return 1;
  }

  private Instant at(String value, byte[] document) throws UsageException {
    if (value == null) {
      return environment.clock().instant();
    }
    if (value.equals("pending-time")) {
      if (document == null) {
        throw new UsageException("--at pending-time needs --document");
      }
      return AwsIdentityDocument.parse(document).pendingTime();
    }
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw new UsageException("--at " + value + " is not an RFC 3339 time such as"
          + " 2022-03-25T20:07:16Z, nor pending-time");
    }
  }

  private static byte[] read(Path path, String option) throws Exception {
    try {
      return Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      throw new UsageException(option + " " + path + ": file not found");
    }
  }

}
