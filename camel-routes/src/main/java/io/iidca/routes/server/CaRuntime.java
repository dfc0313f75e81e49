package io.iidca.routes.server;

import io.iidca.ca.aws.AwsCertificates;
import io.iidca.ca.aws.AwsDocumentVerifier;
import io.iidca.ca.aws.AwsSignatureForm;
import io.iidca.ca.config.CaConfig;
import io.iidca.ca.config.ConfigException;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.CaFiles;
import io.iidca.ca.pki.Fingerprints;
import io.iidca.ca.pki.Issuer;
import io.iidca.ca.pki.KeyFiles;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.provisioner.AwsProvisioner;
import io.iidca.ca.provisioner.AzureProvisioner;
import io.iidca.ca.provisioner.GcpProvisioner;
import io.iidca.ca.store.JdbcStore;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Everything a running CA needs, loaded once at start: configuration, the issuer with the
 * decrypted intermediate key, the store and one verifier per provisioner. Immutable apart from
 * the store's connections; shared by every request.
 */
public final class CaRuntime implements AutoCloseable {

  private final CaFiles files;
  private final CaConfig config;
  private final Issuer issuer;
  private final JdbcStore store;
  private final Map<String, AwsProvisioner> awsProvisioners;
  private final Map<String, GcpProvisioner> gcpProvisioners;
  private final Map<String, AzureProvisioner> azureProvisioners;
  private final Clock clock;
  private final String rootFingerprint;
  private final String intermediatePem;

  CaRuntime(CaFiles files, CaConfig config, Issuer issuer, JdbcStore store,
      Map<String, AwsProvisioner> awsProvisioners, Clock clock) {
    this(files, config, issuer, store, awsProvisioners, Map.of(), Map.of(), clock);
  }

  CaRuntime(CaFiles files, CaConfig config, Issuer issuer, JdbcStore store,
      Map<String, AwsProvisioner> awsProvisioners, Map<String, GcpProvisioner> gcpProvisioners,
      Map<String, AzureProvisioner> azureProvisioners, Clock clock) {
    this.files = files;
    this.config = config;
    this.issuer = issuer;
    this.store = store;
    this.awsProvisioners = Map.copyOf(awsProvisioners);
    this.gcpProvisioners = Map.copyOf(gcpProvisioners);
    this.azureProvisioners = Map.copyOf(azureProvisioners);
    this.clock = clock;
    this.rootFingerprint = Fingerprints.of(issuer.root());
    this.intermediatePem = Pem.encode(issuer.certificate());
  }

  /**
   * Loads the CA from its files and opens the store.
   *
   * @throws ConfigException if a file is missing or a value is invalid
   * @throws GeneralSecurityException if the password does not decrypt the intermediate key
   */
  public static CaRuntime load(CaFiles files, CaConfig config, char[] password, Clock clock)
      throws IOException, GeneralSecurityException {
    return load(files, config, password, clock, false);
  }

  /**
   * Loads the CA; with {@code refuseNewerSchema} a database migrated by a newer iidca stops the
   * start instead of being used.
   */
  public static CaRuntime load(CaFiles files, CaConfig config, char[] password, Clock clock,
      boolean refuseNewerSchema) throws IOException, GeneralSecurityException {
    X509Certificate root = readCertificate(files, config.root(), "root");
    X509Certificate intermediate = readCertificate(files, config.crt(), "crt");
    PrivateKey key = KeyFiles.read(files.resolve(config.key()), password);
    Issuer issuer = new Issuer(key, intermediate, root, config.crlUrl(), config.ocspUrl());
    Map<String, AwsProvisioner> aws = new LinkedHashMap<>();
    for (ProvisionerConfig provisioner : config.provisioners()) {
      if (provisioner.isAws()) {
        aws.put(provisioner.name(), awsProvisioner(files, config, provisioner));
      }
    }
    JdbcStore store = JdbcStore.open(config.db(), files, refuseNewerSchema);
    try {
      Map<String, GcpProvisioner> gcp = new LinkedHashMap<>();
      Map<String, AzureProvisioner> azure = new LinkedHashMap<>();
      for (ProvisionerConfig provisioner : config.provisioners()) {
        if (provisioner.isGcp()) {
          gcp.put(provisioner.name(), GcpProvisioner.forConfig(provisioner, config.dnsNames(),
              clock));
        } else if (provisioner.isAzure()) {
          azure.put(provisioner.name(), AzureProvisioner.forConfig(provisioner, files, store,
              clock));
        }
      }
      return new CaRuntime(files, config, issuer, store, aws, gcp, azure, clock);
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
  }

  private static X509Certificate readCertificate(CaFiles files, String path, String key)
      throws IOException {
    try {
      return Pem.readCertificate(files.resolve(path));
    } catch (java.security.cert.CertificateException e) {
      throw new ConfigException(key, path, "not a PEM certificate: " + e.getMessage());
    } catch (java.nio.file.NoSuchFileException e) {
      throw new ConfigException(key, path, "file not found");
    }
  }

  static AwsProvisioner awsProvisioner(CaFiles files, CaConfig config,
      ProvisionerConfig provisioner) {
    AwsCertificates certificates = AwsCertificates.published();
    for (String extra : provisioner.awsCertificates()) {
      Path path = files.resolve(extra);
      try {
        certificates = certificates.withAdditional(AwsCertificates.load(path));
      } catch (RuntimeException e) {
        throw new ConfigException("provisioners." + provisioner.name() + ".awsCertificates",
            extra, e.getMessage());
      }
    }
    Set<AwsSignatureForm> forms = EnumSet.noneOf(AwsSignatureForm.class);
    provisioner.awsSignatureForms().forEach(form -> forms.add(AwsSignatureForm.fromPath(form)));
    return new AwsProvisioner(provisioner, new AwsDocumentVerifier(certificates, forms),
        config.dnsNames());
  }

  public CaFiles files() {
    return files;
  }

  public CaConfig config() {
    return config;
  }

  public Issuer issuer() {
    return issuer;
  }

  public JdbcStore store() {
    return store;
  }

  public Clock clock() {
    return clock;
  }

  /** Returns the intermediate in PEM, encoded once because every sign response carries it. */
  public String intermediatePem() {
    return intermediatePem;
  }

  public String rootFingerprint() {
    return rootFingerprint;
  }

  public Optional<AwsProvisioner> awsProvisioner(String name) {
    return Optional.ofNullable(awsProvisioners.get(name));
  }

  public Optional<GcpProvisioner> gcpProvisioner(String name) {
    return Optional.ofNullable(gcpProvisioners.get(name));
  }

  public Optional<AzureProvisioner> azureProvisioner(String name) {
    return Optional.ofNullable(azureProvisioners.get(name));
  }

  public List<ProvisionerConfig> provisioners() {
    return config.provisioners();
  }

  @Override
  public void close() {
    store.close();
  }
}
