package io.iidca.ca.pki;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;

/** Reads and writes PEM (RFC 7468) certificates and certification requests. Thread-safe. */
public final class Pem {

  private static final List<String> CSR_LABELS =
      List.of("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST");

  private Pem() {}

  /** Encodes objects that Bouncy Castle's PEM writer accepts: certificates, keys, CSRs. */
  public static String encode(Object... objects) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      for (Object object : objects) {
        writer.writeObject(object);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  /** Encodes a chain of certificates, leaf first. */
  public static String encodeChain(List<X509Certificate> chain) {
    return encode(chain.toArray());
  }

  /**
   * Parses every CERTIFICATE block of a PEM text, or a single DER certificate.
   *
   * @throws CertificateException if a block is not a valid X.509 certificate or none is found
   */
  public static List<X509Certificate> parseCertificates(byte[] pemOrDer)
      throws CertificateException {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    List<X509Certificate> certificates = new ArrayList<>();
    if (pemOrDer.length > 0 && pemOrDer[0] == 0x30) {
      certificates.add((X509Certificate) factory.generateCertificate(
          new ByteArrayInputStream(pemOrDer)));
      return certificates;
    }
    for (PemObject block : blocks(new String(pemOrDer, StandardCharsets.US_ASCII))) {
      if (block.getType().equals("CERTIFICATE")) {
        certificates.add((X509Certificate) factory.generateCertificate(
            new ByteArrayInputStream(block.getContent())));
      }
    }
    if (certificates.isEmpty()) {
      throw new CertificateException("no CERTIFICATE block found");
    }
    return certificates;
  }

  /** Reads every certificate in a PEM or DER file. */
  public static List<X509Certificate> readCertificates(Path file)
      throws IOException, CertificateException {
    return parseCertificates(Files.readAllBytes(file));
  }

  /** Reads the first certificate in a PEM or DER file. */
  public static X509Certificate readCertificate(Path file)
      throws IOException, CertificateException {
    return readCertificates(file).get(0);
  }

  /**
   * Parses the first PKCS#10 request block of a PEM text. The label is CERTIFICATE REQUEST
   * (RFC 7468, 7) or NEW CERTIFICATE REQUEST, which older tools write; blocks with other
   * labels are skipped.
   *
   * @throws GeneralSecurityException if there is no such block or it is not a valid request
   */
  public static PKCS10CertificationRequest parseCsr(String pem)
      throws GeneralSecurityException {
    try {
      for (PemObject block : blocks(pem)) {
        if (CSR_LABELS.contains(block.getType())) {
          return new PKCS10CertificationRequest(block.getContent());
        }
      }
      throw new GeneralSecurityException("no CERTIFICATE REQUEST block found");
    } catch (IOException | RuntimeException e) {
      throw new GeneralSecurityException("invalid certificate request: " + e.getMessage(), e);
    }
  }

  private static List<PemObject> blocks(String text) {
    List<PemObject> blocks = new ArrayList<>();
    try (PemReader reader = new PemReader(new StringReader(text))) {
      for (PemObject block = reader.readPemObject(); block != null;
          block = reader.readPemObject()) {
        blocks.add(block);
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("invalid PEM: " + e.getMessage(), e);
    }
    return blocks;
  }
}
