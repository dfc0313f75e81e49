package io.iidca.cli;

import io.iidca.ca.pki.Fingerprints;
import io.iidca.ca.pki.IidcaExtension;
import io.iidca.ca.pki.Pem;
import java.nio.file.Path;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import javax.security.auth.x500.X500Principal;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/** {@code iidca inspect [--short] FILE}: describes the first certificate of a PEM or DER file. */
final class InspectCommand extends Command {

  InspectCommand(Environment environment) {
    super(environment);
  }

  @Override
  String name() {
    return "inspect";
  }

  @Override
  String arguments() {
    return "FILE";
  }

  @Override
  String summary() {
    return "Describe a certificate.";
  }

  @Override
  Options options() {
    return new Options()
        .addOption(Option.builder().longOpt("short").desc("a few lines, as step's --short")
            .get())
        .addOption(Option.builder().longOpt("help").desc("show this help").get());
  }

  @Override
  int run(CommandLine line) throws Exception {
    Path file = Path.of(positional(line, 1, "the certificate FILE").get(0));
    X509Certificate certificate = read(file);
    if (line.hasOption("short")) {
      printShort(certificate);
    } else {
      printLong(certificate);
    }
    return 0;
  }

  static X509Certificate read(Path file) throws Exception {
    try {
      return Pem.readCertificate(file);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new UsageException("file " + file + " not found");
    } catch (CertificateException | IllegalArgumentException e) {
      throw new UsageException(file + " holds no X.509 certificate: " + e.getMessage());
    }
  }

  private void printShort(X509Certificate certificate) throws Exception {
    String serial = certificate.getSerialNumber().toString();
    out.println("X.509v3 " + kind(certificate) + " Certificate (" + keyDescription(certificate
        .getPublicKey()) + ") [Serial: " + abbreviate(serial) + "]");
    List<String> names = sans(certificate);
    String subject = commonName(certificate.getSubjectX500Principal());
    out.println("  Subject:     " + (subject.isEmpty() && !names.isEmpty() ? names.get(0)
        : subject));
    for (String name : names) {
      if (!name.equals(subject)) {
        out.println("               " + name);
      }
    }
    out.println("  Issuer:      " + commonName(certificate.getIssuerX500Principal()));
    IidcaExtension.from(certificate).ifPresent(identity -> out.println("  Provisioner: "
        + identity.provisioner() + " [" + identity.type() + ", instance "
        + identity.instanceId() + ", account " + identity.account() + "]"));
    out.println("  Valid from:  " + certificate.getNotBefore().toInstant());
    out.println("          to:  " + certificate.getNotAfter().toInstant());
  }

  private void printLong(X509Certificate certificate) throws Exception {
    out.println("Certificate:");
    out.println("    Version: " + certificate.getVersion());
    out.println("    Serial Number: " + certificate.getSerialNumber() + " (0x"
        + certificate.getSerialNumber().toString(16) + ")");
    out.println("    Signature Algorithm: " + certificate.getSigAlgName());
    out.println("    Issuer: " + certificate.getIssuerX500Principal().getName(
        X500Principal.RFC2253));
    out.println("    Validity");
    out.println("        Not Before: " + certificate.getNotBefore().toInstant());
    out.println("        Not After : " + certificate.getNotAfter().toInstant());
    out.println("    Subject: " + certificate.getSubjectX500Principal().getName(
        X500Principal.RFC2253));
    out.println("    Subject Public Key Info: " + keyDescription(certificate.getPublicKey()));
    out.println("        SHA-256 of key: " + Fingerprints.of(certificate.getPublicKey()));
    out.println("    X509v3 extensions:");
    out.println("        Basic Constraints: " + (certificate.getBasicConstraints() < 0
        ? "CA:FALSE" : "CA:TRUE, pathlen:" + certificate.getBasicConstraints()));
    out.println("        Key Usage: " + keyUsage(certificate.getKeyUsage()));
    if (certificate.getExtendedKeyUsage() != null) {
      out.println("        Extended Key Usage: " + extendedKeyUsage(certificate));
    }
    List<String> names = sans(certificate);
    if (!names.isEmpty()) {
      out.println("        Subject Alternative Name: " + String.join(", ", names));
    }
    IidcaExtension.from(certificate).ifPresent(identity -> out.println(
        "        iidca identity: provisioner " + identity.provisioner() + " (" + identity.type()
            + "), instance " + identity.instanceId() + ", account " + identity.account()));
    out.println("    SHA-256 Fingerprint: " + Fingerprints.of(certificate));
  }

  private static String kind(X509Certificate certificate) throws Exception {
    if (certificate.getBasicConstraints() >= 0) {
      return certificate.getSubjectX500Principal().equals(certificate.getIssuerX500Principal())
          ? "Root CA" : "Intermediate CA";
    }
    return "TLS";
  }

  static String keyDescription(PublicKey key) {
    if (key instanceof ECKey ec) {
      int bits = ec.getParams().getCurve().getField().getFieldSize();
      return "ECDSA P-" + bits;
    }
    if (key instanceof RSAKey rsa) {
      return "RSA " + rsa.getModulus().bitLength();
    }
    return key.getAlgorithm();
  }

  private static String abbreviate(String serial) {
    return serial.length() <= 8 ? serial
        : serial.substring(0, 4) + "..." + serial.substring(serial.length() - 4);
  }

  static List<String> sans(X509Certificate certificate) throws CertificateException {
    List<String> names = new ArrayList<>();
    Collection<List<?>> entries = certificate.getSubjectAlternativeNames();
    if (entries != null) {
      for (List<?> entry : entries) {
        Object value = entry.get(1);
        names.add(value instanceof byte[] bytes ? HexFormat.of().formatHex(bytes)
            : String.valueOf(value));
      }
    }
    return names;
  }

  private static String commonName(X500Principal principal) {
    for (String part : principal.getName(X500Principal.RFC2253).split("(?<!\\\\),")) {
      if (part.startsWith("CN=")) {
        return part.substring(3).replace("\\", "");
      }
    }
    return principal.getName(X500Principal.RFC2253);
  }

  private static String keyUsage(boolean[] bits) {
    if (bits == null) {
      return "(none)";
    }
    String[] names = {"Digital Signature", "Non Repudiation", "Key Encipherment",
        "Data Encipherment", "Key Agreement", "Certificate Sign", "CRL Sign", "Encipher Only",
        "Decipher Only"};
    List<String> set = new ArrayList<>();
    for (int i = 0; i < Math.min(bits.length, names.length); i++) {
      if (bits[i]) {
        set.add(names[i]);
      }
    }
    return String.join(", ", set);
  }

  private static String extendedKeyUsage(X509Certificate certificate) throws Exception {
    List<String> names = new ArrayList<>();
    for (String oid : certificate.getExtendedKeyUsage()) {
      names.add(switch (oid) {
        case "1.3.6.1.5.5.7.3.1" -> "TLS Web Server Authentication";
        case "1.3.6.1.5.5.7.3.2" -> "TLS Web Client Authentication";
        default -> oid;
      });
    }
    return String.join(", ", names);
  }
}
