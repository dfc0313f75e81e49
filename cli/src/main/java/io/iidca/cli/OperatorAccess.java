package io.iidca.cli;

import io.iidca.ca.config.CaConfig;
import io.iidca.ca.config.ConfigFile;
import io.iidca.ca.pki.CaFiles;
import io.iidca.ca.pki.KeyFiles;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.provisioner.AdminToken;
import io.iidca.routes.client.CaClient;
import io.iidca.routes.client.ClientDefaults;
import java.net.URI;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * The access an operator command on the CA host needs to call the running CA: the CA URL and
 * root from the client defaults, and the intermediate key, decrypted with the CA password, to
 * sign operator tokens.
 */
final class OperatorAccess {

  private final String caUrl;
  private final CaClient client;
  private final PrivateKey intermediateKey;

  private OperatorAccess(String caUrl, CaClient client, PrivateKey intermediateKey) {
    this.caUrl = caUrl;
    this.client = client;
    this.intermediateKey = intermediateKey;
  }

  static Options addOptions(Options options) {
    return options
        .addOption(Option.builder().longOpt("password-file").hasArg().argName("FILE")
            .desc("file whose first line decrypts the intermediate key (or set"
                + " IIDCA_PASSWORD)").get())
        .addOption(Option.builder().longOpt("ca-url").hasArg().argName("URL")
            .desc("the CA's URL, instead of the one in config/defaults.yaml").get());
  }

  static OperatorAccess open(Command command, Environment environment, CommandLine line,
      char[] password) throws Exception {
    CaFiles files = environment.files();
    CaConfig config = ConfigFile.load(files.base());
    ClientDefaults defaults = ClientDefaults.load(files);
    URI caUri = Command.caUrl(line, defaults, files);
    String caUrl = caUri.toString();
    PrivateKey key;
    try {
      key = KeyFiles.read(files.resolve(config.key()), password);
    } catch (GeneralSecurityException e) {
      throw new UsageException(e.getMessage());
    }
    X509Certificate root = Pem.readCertificate(Path.of(defaults.root()));
    return new OperatorAccess(caUrl, new CaClient(caUri, root,
        Duration.ofSeconds(30)), key);
  }

  CaClient client() {
    return client;
  }

  /** Issues a fresh single-use operator token for the operation at {@code path}. */
  String token(String path) {
    return AdminToken.issue(intermediateKey, caUrl, path, java.time.Instant.now());
  }
}
