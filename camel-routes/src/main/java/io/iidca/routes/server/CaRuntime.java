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
import io.iidca.ca.policy.IssuancePolicy;
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
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything a running CA needs, loaded at start: configuration, the issuer with the decrypted
 * intermediate key, the store and one verifier per provisioner. The provisioners and the CA's
 * name policy can be replaced while the CA runs ({@link #reloadProvisioners}); the rest stays
 * as loaded. Shared by every request.
 */
public final class CaRuntime implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(CaRuntime.class);

  private final CaFiles files;
  private final Issuer issuer;
  private final JdbcStore store;
  private final Clock clock;
  /** The CA's DNS names and addresses, canonical, which certificates may not carry. */
  private final Set<String> caNames;
  private final String rootFingerprint;
  private final String intermediatePem;
  /** Replaced as a whole, so that a request that reads it once gets one consistent set. */
  private volatile Provisioners current;

  /**
   * The provisioners in use, with the configuration they came from.
   *
   * @param config the CA's configuration, whose provisioners are those of the maps
   */
  public record Provisioners(CaConfig config, Map<String, AwsProvisioner> aws,
      Map<String, GcpProvisioner> gcp, Map<String, AzureProvisioner> azure) {

    public Provisioners {
      aws = Map.copyOf(aws);
      gcp = Map.copyOf(gcp);
      azure = Map.copyOf(azure);
    }
  }

  /**
   * The outcome of a reload: the names of the provisioners added, removed and changed, whether
   * the CA's name policy changed, and the settings that differ from the running ones but
   * apply only at the next start.
   */
  public record Reload(List<String> added, List<String> removed, List<String> changed,
      boolean namePolicyChanged, List<String> needRestart) {

    /** Returns whether the reload changed nothing that the CA serves. */
    public boolean unchanged() {
      return added.isEmpty() && removed.isEmpty() && changed.isEmpty() && !namePolicyChanged;
    }
  }

  CaRuntime(CaFiles files, CaConfig config, Issuer issuer, JdbcStore store,
      Map<String, AwsProvisioner> awsProvisioners, Clock clock) {
    this(files, config, issuer, store, awsProvisioners, Map.of(), Map.of(), clock);
  }

  CaRuntime(CaFiles files, CaConfig config, Issuer issuer, JdbcStore store,
      Map<String, AwsProvisioner> awsProvisioners, Map<String, GcpProvisioner> gcpProvisioners,
      Map<String, AzureProvisioner> azureProvisioners, Clock clock) {
    this.files = files;
    this.issuer = issuer;
    this.store = store;
    this.current = new Provisioners(config, awsProvisioners, gcpProvisioners,
        azureProvisioners);
    this.clock = clock;
    this.caNames = IssuancePolicy.canonicalNames(config.dnsNames());
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
    // The AWS provisioners need no store, so that a wrong certificate file stops the start
    // before the database opens.
    Map<String, AwsProvisioner> aws = awsProvisioners(files, config);
    JdbcStore store = JdbcStore.open(config.db(), files, refuseNewerSchema);
    try {
      Provisioners provisioners = cloudProvisioners(files, config, store, clock, aws, null);
      return new CaRuntime(files, config, issuer, store, provisioners.aws(),
          provisioners.gcp(), provisioners.azure(), clock);
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
  }

  /**
   * Serves the provisioners and the CA-level name policy of {@code fresh}, the configuration
   * read again, from now on. A GCP or Azure provisioner whose configuration did not change
   * keeps the keys that it has fetched. Requests that identified their provisioner
   * before the reload finish with it. Other settings keep their running values; those that
   * differ in {@code fresh} are named in the result.
   *
   * @throws ConfigException if a provisioner of {@code fresh} cannot be built, such as when a
   *     certificate file it names is missing; the running provisioners then stay
   */
  public synchronized Reload reloadProvisioners(CaConfig fresh) {
    Provisioners before = current;
    CaConfig running = before.config();
    CaConfig next = running.withProvisionersOf(fresh);
    Map<String, AwsProvisioner> aws = awsProvisioners(files, next);
    Provisioners after = cloudProvisioners(files, next, store, clock, aws, before);
    current = after;
    List<String> added = new ArrayList<>();
    List<String> changed = new ArrayList<>();
    for (ProvisionerConfig provisioner : next.provisioners()) {
      running.provisioner(provisioner.name()).ifPresentOrElse(
          old -> {
            if (!old.equals(provisioner)) {
              changed.add(provisioner.name());
            }
          },
          () -> added.add(provisioner.name()));
    }
    List<String> removed = running.provisioners().stream().map(ProvisionerConfig::name)
        .filter(name -> next.provisioner(name).isEmpty()).toList();
    Reload reload = new Reload(List.copyOf(added), removed, List.copyOf(changed),
        !running.namePolicy().equals(next.namePolicy()), running.settingsDifferingFrom(fresh));
    LOG.info("provisioners reloaded: added {}, removed {}, changed {}, CA name policy {}",
        reload.added(), reload.removed(), reload.changed(),
        reload.namePolicyChanged() ? "changed" : "unchanged");
    return reload;
  }

  /**
   * Builds the AWS provisioners of {@code config}. Each reads its certificate files again,
   * because {@code iidca provisioner update} rewrites a file at the same path.
   */
  private static Map<String, AwsProvisioner> awsProvisioners(CaFiles files, CaConfig config) {
    Map<String, AwsProvisioner> aws = new LinkedHashMap<>();
    for (ProvisionerConfig provisioner : config.provisioners()) {
      if (provisioner.isAws()) {
        aws.put(provisioner.name(), awsProvisioner(files, config, provisioner));
      }
    }
    return aws;
  }

  /**
   * Builds the GCP and Azure provisioners of {@code config} beside the AWS ones given. Those
   * whose configuration equals that of a provisioner in {@code previous} (null at start) keep
   * its fetched keys. A GCP provisioner reads no file, and an Azure one reads its roots again.
   */
  private static Provisioners cloudProvisioners(CaFiles files, CaConfig config,
      JdbcStore store, Clock clock, Map<String, AwsProvisioner> aws, Provisioners previous) {
    Map<String, GcpProvisioner> gcp = new LinkedHashMap<>();
    Map<String, AzureProvisioner> azure = new LinkedHashMap<>();
    for (ProvisionerConfig provisioner : config.provisioners()) {
      String name = provisioner.name();
      if (provisioner.isGcp()) {
        GcpProvisioner kept = previous == null ? null : previous.gcp().get(name);
        gcp.put(name, kept != null && kept.config().equals(provisioner) ? kept
            : GcpProvisioner.forConfig(provisioner, config.dnsNames(), clock));
      } else if (provisioner.isAzure()) {
        AzureProvisioner kept = previous == null ? null : previous.azure().get(name);
        try {
          azure.put(name, kept != null && kept.config().equals(provisioner)
              ? AzureProvisioner.forConfig(provisioner, files, store, kept.keys())
              : AzureProvisioner.forConfig(provisioner, files, store, clock));
        } catch (IllegalArgumentException e) {
          throw new ConfigException(e.getMessage());
        }
      }
    }
    return new Provisioners(config, aws, gcp, azure);
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

  /**
   * Returns the CA's DNS names and addresses in the form that
   * {@link IssuancePolicy#checkNotCaNames} compares. They change only when serve starts again.
   */
  public Set<String> caNames() {
    return caNames;
  }

  /** Returns the configuration in use: the one loaded, with the provisioners of the last reload. */
  public CaConfig config() {
    return current.config();
  }

  /**
   * Returns the provisioners in use. A request that reads them once, as the identify stage
   * does, keeps one consistent set while a reload replaces them.
   */
  public Provisioners current() {
    return current;
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
    return Optional.ofNullable(current.aws().get(name));
  }

  public Optional<GcpProvisioner> gcpProvisioner(String name) {
    return Optional.ofNullable(current.gcp().get(name));
  }

  public Optional<AzureProvisioner> azureProvisioner(String name) {
    return Optional.ofNullable(current.azure().get(name));
  }

  public List<ProvisionerConfig> provisioners() {
    return current.config().provisioners();
  }

  @Override
  public void close() {
    store.close();
  }
}
