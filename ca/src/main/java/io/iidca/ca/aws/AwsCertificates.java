package io.iidca.ca.aws;

import io.iidca.ca.pki.Pem;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The certificates whose keys may sign an instance identity document, per signature form and
 * region. AWS publishes one certificate per region and form, and a single "other regions"
 * certificate for the {@code signature} and {@code pkcs7} forms in regions that it does not list
 * (AWS EC2 User Guide, "Verify the instance identity document"). The published set ships as
 * resources with an index (region to files per form); {@code SOURCE.md} beside them names where
 * each came from.
 *
 * <p>A region may have several candidates because AWS reissued certificates without changing
 * the key. Validity periods are not checked here: {@link AwsDocumentVerifier} checks them at the
 * verification time. Instances are immutable and thread-safe.
 */
public final class AwsCertificates {

  /** The index key that matches every region not listed for a form. */
  static final String OTHER_REGIONS = "*";

  private static final String RESOURCES = "certs/";
  private static final String INDEX = RESOURCES + "index.tsv";

  private static volatile AwsCertificates published;

  private final Map<AwsSignatureForm, Map<String, List<X509Certificate>>> byForm;
  private final List<X509Certificate> additional;

  private AwsCertificates(Map<AwsSignatureForm, Map<String, List<X509Certificate>>> byForm,
      List<X509Certificate> additional) {
    Map<AwsSignatureForm, Map<String, List<X509Certificate>>> copy =
        new EnumMap<>(AwsSignatureForm.class);
    byForm.forEach((form, regions) -> {
      Map<String, List<X509Certificate>> regionCopy = new HashMap<>();
      regions.forEach((region, certificates) -> regionCopy.put(region,
          List.copyOf(certificates)));
      copy.put(form, Collections.unmodifiableMap(regionCopy));
    });
    this.byForm = Collections.unmodifiableMap(copy);
    this.additional = List.copyOf(additional);
  }

  /**
   * Returns the certificates that AWS published, loaded from this package's resources on the
   * first call and shared afterwards.
   *
   * @throws IllegalStateException if the resources are missing or corrupt, which is a build
   *     defect
   */
  public static AwsCertificates published() {
    AwsCertificates result = published;
    if (result == null) {
      synchronized (AwsCertificates.class) {
        result = published;
        if (result == null) {
          result = loadIndex();
          published = result;
        }
      }
    }
    return result;
  }

  /**
   * Returns a copy that also trusts {@code extra} for every region and form, for example a test
   * emulator's certificate or the certificate of a region that AWS opened after this release.
   */
  public AwsCertificates withAdditional(List<X509Certificate> extra) {
    List<X509Certificate> combined = new ArrayList<>(additional);
    for (X509Certificate certificate : Objects.requireNonNull(extra, "extra")) {
      combined.add(Objects.requireNonNull(certificate, "extra certificate"));
    }
    return new AwsCertificates(byForm, combined);
  }

  /**
   * Returns the certificates that may have signed a document of {@code region} in
   * {@code form}: the region's published certificates, or the form's "other regions"
   * certificate when the region is not listed, followed by the additional certificates. The
   * list is empty when no certificate applies, which is the case for {@code rsa2048} in a region
   * that is not listed and without additional certificates.
   */
  public List<X509Certificate> candidates(String region, AwsSignatureForm form) {
    Objects.requireNonNull(region, "region");
    Objects.requireNonNull(form, "form");
    Map<String, List<X509Certificate>> regions = byForm.getOrDefault(form, Map.of());
    List<X509Certificate> regional = regions.get(region);
    if (regional == null) {
      regional = regions.getOrDefault(OTHER_REGIONS, List.of());
    }
    Set<X509Certificate> unique = new LinkedHashSet<>(regional);
    unique.addAll(additional);
    return List.copyOf(unique);
  }

  /**
   * Reads every certificate in a PEM (or single DER) file, such as an operator's certificate for
   * a new region.
   *
   * @throws IllegalArgumentException naming the file if it cannot be read, contains no X.509
   *     certificate or has a broken block
   */
  public static List<X509Certificate> load(Path pemFile) {
    Objects.requireNonNull(pemFile, "pemFile");
    try {
      return List.copyOf(Pem.readCertificates(pemFile));
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("AWS certificate file " + pemFile + " does not exist",
          e);
    } catch (IOException e) {
      throw new IllegalArgumentException("AWS certificate file " + pemFile
          + " cannot be read: " + e.getMessage(), e);
    } catch (CertificateException | IllegalArgumentException e) {
      throw new IllegalArgumentException("AWS certificate file " + pemFile
          + " is not a valid PEM or DER certificate file: " + e.getMessage(), e);
    }
  }

  /**
   * Returns whether AWS published a certificate for the region in any form. Additional
   * certificates apply to every region, so callers check this to keep a document from a region
   * that AWS does not have from being vouched for by an additional certificate alone.
   */
  public boolean isPublishedRegion(String region) {
    for (Map<String, List<X509Certificate>> regions : byForm.values()) {
      if (!OTHER_REGIONS.equals(region) && regions.containsKey(region)) {
        return true;
      }
    }
    return false;
  }

  /** Returns the regions listed for a form, with {@code *} for the other-regions entry. */
  Set<String> listedRegions(AwsSignatureForm form) {
    return Collections.unmodifiableSet(new TreeSet<>(byForm.getOrDefault(form, Map.of())
        .keySet()));
  }

  /** Builds a set from explicit region lists for tests, with {@code *} as other regions. */
  static AwsCertificates of(Map<AwsSignatureForm, Map<String, List<X509Certificate>>> byForm) {
    return new AwsCertificates(byForm, List.of());
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder("AwsCertificates[");
    byForm.forEach((form, regions) -> out.append(form).append(": ").append(regions.size())
        .append(" region entries, "));
    return out.append(additional.size()).append(" additional]").toString();
  }

  private static AwsCertificates loadIndex() {
    Map<AwsSignatureForm, Map<String, List<X509Certificate>>> byForm =
        new EnumMap<>(AwsSignatureForm.class);
    Map<String, X509Certificate> files = new HashMap<>();
    List<String> lines = readLines(INDEX);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#") || line.startsWith("form\t")) {
        continue;
      }
      String[] columns = line.split("\t");
      if (columns.length != 4) {
        throw new IllegalStateException(INDEX + " line " + (i + 1) + " has " + columns.length
            + " columns, expected 4: form, region, file, source");
      }
      AwsSignatureForm form;
      try {
        form = AwsSignatureForm.fromPath(columns[0]);
      } catch (IllegalArgumentException e) {
        throw new IllegalStateException(INDEX + " line " + (i + 1) + ": " + e.getMessage(), e);
      }
      X509Certificate certificate = files.computeIfAbsent(columns[2],
          AwsCertificates::readResourceCertificate);
      byForm.computeIfAbsent(form, f -> new LinkedHashMap<>())
          .computeIfAbsent(columns[1], r -> new ArrayList<>())
          .add(certificate);
    }
    return new AwsCertificates(byForm, List.of());
  }

  private static X509Certificate readResourceCertificate(String file) {
    String resource = RESOURCES + file;
    try (InputStream in = open(resource)) {
      List<X509Certificate> certificates = Pem.parseCertificates(in.readAllBytes());
      if (certificates.size() != 1) {
        throw new IllegalStateException(resource + " contains " + certificates.size()
            + " certificates, expected 1");
      }
      return certificates.get(0);
    } catch (IOException e) {
      throw new IllegalStateException("resource " + resource + " cannot be read", e);
    } catch (CertificateException | IllegalArgumentException e) {
      throw new IllegalStateException(resource + " is not a valid certificate", e);
    }
  }

  private static List<String> readLines(String resource) {
    try (BufferedReader reader = new BufferedReader(
        new InputStreamReader(open(resource), StandardCharsets.UTF_8))) {
      return reader.lines().toList();
    } catch (IOException | UncheckedIOException e) {
      throw new IllegalStateException("resource " + resource + " cannot be read", e);
    }
  }

  private static InputStream open(String resource) {
    InputStream in = AwsCertificates.class.getResourceAsStream(resource);
    if (in == null) {
      throw new IllegalStateException("resource " + resource + " is missing from package "
          + AwsCertificates.class.getPackageName());
    }
    return in;
  }
}
