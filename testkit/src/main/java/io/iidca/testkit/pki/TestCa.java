package io.iidca.testkit.pki;

import io.iidca.ca.config.CaConfig;
import io.iidca.ca.config.ConfigFile;
import io.iidca.ca.config.DbConfig;
import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.io.AtomicFiles;
import io.iidca.ca.pki.CaFiles;
import io.iidca.ca.pki.CaInitializer;
import io.iidca.ca.pki.Pem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A CA created in a test's directory exactly as {@code iidca init} creates one, listening on
 * 127.0.0.1 with a port the system picks, with provisioners added as the test needs.
 */
public final class TestCa {

  /** The password of every test CA's keys. */
  public static final char[] PASSWORD = "test-password".toCharArray();

  private final CaFiles files;
  private final X509Certificate root;

  private TestCa(CaFiles files, X509Certificate root) {
    this.files = files;
    this.root = root;
  }

  /** Creates a CA named "Test CA" for localhost and 127.0.0.1 under {@code directory}. */
  public static TestCa create(Path directory) throws IOException {
    CaFiles files = new CaFiles(directory);
    CaConfig config = new CaConfig("Test CA", "127.0.0.1:0", List.of("localhost", "127.0.0.1"),
        CaFiles.ROOT_CERT, CaFiles.INTERMEDIATE_CERT, CaFiles.INTERMEDIATE_KEY,
        DbConfig.DEFAULT, Lifetime.DEFAULT, List.of()).validate();
    return new TestCa(files, CaInitializer.create(files, config, PASSWORD));
  }

  public CaFiles files() {
    return files;
  }

  public X509Certificate root() {
    return root;
  }

  public CaConfig config() throws IOException {
    return ConfigFile.load(files.base());
  }

  /** Adds a provisioner to {@code config/ca.yaml} and returns the new configuration. */
  public CaConfig addProvisioner(ProvisionerConfig provisioner) throws IOException {
    CaConfig config = config().withProvisioner(provisioner);
    ConfigFile.save(files.base(), config);
    return config;
  }

  /**
   * Writes certificates to a PEM file under the CA's directory and returns the path relative
   * to it, as {@code awsCertificates} in a provisioner takes it.
   */
  public String writeCertificates(String name, List<X509Certificate> certificates)
      throws IOException {
    String relative = "config/aws-certificates/" + name + ".pem";
    AtomicFiles.write(files.resolve(relative), Pem.encodeChain(certificates)
        .getBytes(StandardCharsets.US_ASCII), AtomicFiles.PUBLIC);
    return relative;
  }
}
