package io.iidca.cli;

import io.iidca.ca.pki.KeyFiles;
import io.iidca.ca.pki.Pem;
import io.iidca.routes.client.CaClient;
import io.iidca.routes.client.CaRejection;
import io.iidca.routes.client.ClientDefaults;
import io.iidca.routes.client.Renewer;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code iidca revoke}: on the CA host, an operator revokes any serial with the CA password;
 * on an instance, the holder revokes its own certificate over mutual TLS with
 * {@code --cert} and {@code --key}.
 */
final class RevokeCommand extends Command {

  /** CRLReason names of RFC 5280, 5.3.1, by code; 7 is unused. */
  private static final List<String> REASONS = List.of("unspecified", "keyCompromise",
      "cACompromise", "affiliationChanged", "superseded", "cessationOfOperation",
      "certificateHold", "", "removeFromCRL", "privilegeWithdrawn", "aACompromise");

  RevokeCommand(Environment environment) {
    super(environment);
  }

  @Override
  String name() {
    return "revoke";
  }

  @Override
  String arguments() {
    return "[SERIAL]";
  }

  @Override
  String summary() {
    return "Revoke a certificate: by serial as the CA operator, or your own with --cert and"
        + " --key.";
  }

  @Override
  Options options() {
    return OperatorAccess.addOptions(new Options())
        .addOption(Option.builder().longOpt("reason-code").hasArg().argName("CODE")
            .desc("CRLReason of RFC 5280 by number or name, such as keyCompromise (default"
                + " unspecified)").get())
        .addOption(Option.builder().longOpt("reason").hasArg().argName("TEXT")
            .desc("a note for the audit log").get())
        .addOption(Option.builder().longOpt("cert").hasArg().argName("FILE")
            .desc("revoke this certificate, presenting it over mutual TLS").get())
        .addOption(Option.builder().longOpt("key").hasArg().argName("FILE")
            .desc("the private key of --cert").get())
        .addOption(Option.builder().longOpt("root").hasArg().argName("FILE")
            .desc("the root to trust, instead of the bootstrapped one").get())
        .addOption(Option.builder().longOpt("help").desc("show this help").get());
  }

  @Override
  int run(CommandLine line) throws Exception {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("reasonCode", reasonCode(line.getOptionValue("reason-code")));
    body.put("reason", line.getOptionValue("reason", ""));
    CaClient client;
    String serial;
    String shownSerial;
    if (line.hasOption("cert")) {
      if (!line.hasOption("key")) {
        throw new UsageException("--cert needs --key, the certificate's private key");
      }
      Path certificateFile = Path.of(line.getOptionValue("cert"));
      Path keyFile = Path.of(line.getOptionValue("key"));
      List<X509Certificate> chain = Pem.readCertificates(certificateFile);
      PrivateKey key = KeyFiles.read(keyFile, null);
      // A mismatched pair fails the TLS handshake with a bare I/O error, so check it here.
      if (!Renewer.matches(key, chain.get(0).getPublicKey())) {
        throw new GeneralSecurityException(keyFile + " does not match the certificate in "
            + certificateFile + " (serial " + Renewer.serial(chain.get(0)) + "): pass the key"
            + " file that was written with this certificate");
      }
      ClientDefaults defaults = ClientDefaults.load(environment.files());
      X509Certificate root = Pem.readCertificate(Path.of(line.getOptionValue("root",
          defaults.root())));
      client = new CaClient(caUrl(line, defaults, environment.files()), root,
          key, chain, Duration.ofSeconds(30));
      serial = chain.get(0).getSerialNumber().toString();
      shownSerial = Renewer.serial(chain.get(0));
    } else {
      serial = positional(line, 1, "the SERIAL to revoke, or --cert and --key").get(0);
      shownSerial = hexSerial(serial);
      OperatorAccess operator = OperatorAccess.open(this, environment, line,
          readPassword(line));
      client = operator.client();
      body.put("ott", operator.token("/1.0/revoke"));
    }
    body.put("serial", serial);
    CaClient.Response response = client.post("/1.0/revoke", body);
    if (response.status() != 200) {
      err.println("iidca revoke: the CA refused (HTTP " + response.status() + "): "
          + response.message());
      return CaRejection.isRejection(response.status()) ? 3 : 1;
    }
    done("Revoked certificate with serial " + shownSerial);
    return 0;
  }

  /**
   * Returns a typed serial in lower-case hex, as renew and the CA's messages show serials:
   * decimal, or hex with a 0x prefix or colons, as the CA reads them. Returns other text
   * unchanged, for the CA to reject.
   */
  static String hexSerial(String typed) {
    String text = typed.strip().toLowerCase(Locale.ROOT);
    try {
      if (text.startsWith("0x")) {
        return new BigInteger(text.substring(2), 16).toString(16);
      }
      if (text.contains(":")) {
        return new BigInteger(text.replace(":", ""), 16).toString(16);
      }
      return new BigInteger(text, 10).toString(16);
    } catch (NumberFormatException e) {
      return typed;
    }
  }

  static int reasonCode(String value) throws UsageException {
    if (value == null) {
      return 0;
    }
    for (int code = 0; code < REASONS.size(); code++) {
      if (!REASONS.get(code).isEmpty() && (REASONS.get(code).equalsIgnoreCase(value)
          || String.valueOf(code).equals(value))) {
        return code;
      }
    }
    throw new UsageException("--reason-code " + value + " is not a CRLReason: use one of "
        + REASONS.stream().filter(r -> !r.isEmpty()).map(r -> r.toLowerCase(Locale.ROOT))
            .toList() + " or its number");
  }
}
