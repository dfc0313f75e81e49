package io.iidca.ca.pki;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CRLException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/** Reads and writes PEM (RFC 7468) certificates and certification requests. Thread-safe. */
public final class Pem {

  private static final List<String> CSR_LABELS =
      List.of("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST");
  private static final String BEGIN = "-----BEGIN ";
  private static final String END = "-----END ";
  private static final String DASHES = "-----";

  /** Base64 in lines of 64 characters, as RFC 7468, 2 requires of generators. */
  private static final Base64.Encoder BASE64_LINES =
      Base64.getMimeEncoder(64, new byte[] {'\n'});

  /** One block of a PEM text: its label and the bytes that its base64 encodes. */
  record Block(String label, byte[] content) {}

  private Pem() {}

  /**
   * Encodes objects that Bouncy Castle's PEM writer accepts: certificates, CRLs, keys, CSRs.
   * Certificates and CRLs are encoded here with {@link Base64}, because the sign path encodes
   * one per request and Bouncy Castle's writer took about 15 times longer per certificate in a
   * microbenchmark (Bouncy Castle 1.87, JDK 17). The text is the same as Bouncy Castle's on
   * Linux: lines of at most 64 characters, each ending in {@code \n}.
   *
   * @throws UncheckedIOException if an object cannot be encoded
   */
  public static String encode(Object... objects) {
    StringBuilder out = new StringBuilder();
    for (Object object : objects) {
      try {
        if (object instanceof X509Certificate certificate) {
          appendBlock(out, "CERTIFICATE", certificate.getEncoded());
        } else if (object instanceof X509CRL crl) {
          appendBlock(out, "X509 CRL", crl.getEncoded());
        } else {
          out.append(encodeWithBouncyCastle(object));
        }
      } catch (CertificateException | CRLException e) {
        throw new UncheckedIOException(new IOException("cannot encode "
            + object.getClass().getSimpleName() + " as PEM: " + e.getMessage(), e));
      }
    }
    return out.toString();
  }

  /** Encodes the DER of one certificate as one PEM block. */
  public static String encodeCertificate(byte[] der) {
    StringBuilder out = new StringBuilder(der.length * 4 / 3 + 80);
    appendBlock(out, "CERTIFICATE", der);
    return out.toString();
  }

  /** Appends one block with the label and DER content (RFC 7468, 2). */
  private static void appendBlock(StringBuilder out, String label, byte[] der) {
    out.append("-----BEGIN ").append(label).append("-----\n")
        .append(BASE64_LINES.encodeToString(der))
        .append("\n-----END ").append(label).append("-----\n");
  }

  private static String encodeWithBouncyCastle(Object object) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
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
    for (Block block : blocks(new String(pemOrDer, StandardCharsets.US_ASCII))) {
      if (block.label().equals("CERTIFICATE")) {
        certificates.add((X509Certificate) factory.generateCertificate(
            new ByteArrayInputStream(block.content())));
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
      for (Block block : blocks(pem)) {
        if (CSR_LABELS.contains(block.label())) {
          return new PKCS10CertificationRequest(block.content());
        }
      }
      throw new GeneralSecurityException("no CERTIFICATE REQUEST block found");
    } catch (IOException | RuntimeException e) {
      throw new GeneralSecurityException("invalid certificate request: " + e.getMessage(), e);
    }
  }

  /**
   * Returns the blocks of a PEM text in their order (RFC 7468). A block starts with a line
   * {@code -----BEGIN LABEL-----} and ends at the next {@code -----END LABEL-----}. Text
   * between blocks is skipped, as RFC 7468, 2 allows, and so are header lines
   * ({@code Name: value}, RFC 1421) inside a block. The base64 may contain whitespace anywhere,
   * as in the lax form of RFC 7468, 3. Lines end in LF, CRLF or CR. It returns the blocks that
   * Bouncy Castle's {@code PemReader} returned for the forms that tools write, but that reader
   * allocated a buffer of 8,192 characters for each text: 16 KB for every CSR on the sign path,
   * 7% of the bytes that the CA allocated per certificate (bench/RESULTS.md).
   *
   * <p>A BEGIN marker that follows the previous block's END marker on the same line also starts
   * a block: {@code cat a.pem b.pem} writes that when a.pem lacks its final newline, and Bouncy
   * Castle's reader skips b.pem's block without an error (OpenSSL 3.0 rejects the file). A BEGIN
   * marker after other text on an END line is an error rather than a block skipped in silence.
   *
   * <p>NOTE: on unusual input the two differ. This parser takes a label verbatim (two spaces
   * after BEGIN are part of it), finds the END line anywhere after the BEGIN line (also inside
   * a header line), and accepts labels with hyphens and base64 without its padding.
   *
   * @throws IllegalArgumentException if a block has no END line, its base64 is invalid or its
   *     END line carries a BEGIN marker after other text
   */
  static List<Block> blocks(String text) {
    List<Block> blocks = new ArrayList<>();
    int position = 0;
    int lastEnd = -1;
    while (true) {
      int begin = text.indexOf(BEGIN, position);
      if (begin < 0) {
        return blocks;
      }
      int lineEnd = lineEnd(text, begin);
      int labelEnd = text.indexOf(DASHES, begin + BEGIN.length());
      position = lineEnd;
      // A BEGIN marker counts only at the start of a line or right after the last END marker,
      // and with its closing dashes on its line.
      boolean lineStart = begin == 0 || text.charAt(begin - 1) == '\n'
          || text.charAt(begin - 1) == '\r';
      if ((!lineStart && begin != lastEnd)
          || labelEnd < 0
          || labelEnd + DASHES.length() > lineEnd
          || !text.substring(labelEnd + DASHES.length(), lineEnd).isBlank()) {
        continue;
      }
      String label = text.substring(begin + BEGIN.length(), labelEnd);
      String endLine = END + label + DASHES;
      int end = text.indexOf(endLine, lineEnd);
      if (end < 0) {
        throw new IllegalArgumentException("invalid PEM: " + endLine + " not found");
      }
      blocks.add(new Block(label, decode(text, lineEnd, end, label)));
      position = end + endLine.length();
      lastEnd = position;
      // Only the rest of the END line is searched; the loop finds the next BEGIN line itself.
      if (text.substring(position, lineEnd(text, position)).indexOf(BEGIN) > 0) {
        throw new IllegalArgumentException("invalid PEM: text between " + endLine
            + " and the next -----BEGIN marker on one line; put each marker on a line of its"
            + " own");
      }
    }
  }

  /**
   * Returns the index just past the end (LF, CRLF or CR) of the line that contains index, or
   * text's length.
   */
  private static int lineEnd(String text, int index) {
    for (int i = index; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\n') {
        return i + 1;
      }
      if (c == '\r') {
        return i + 1 < text.length() && text.charAt(i + 1) == '\n' ? i + 2 : i + 1;
      }
    }
    return text.length();
  }

  /** Decodes the base64 between from and to, skipping header lines and whitespace. */
  private static byte[] decode(String text, int from, int to, String label) {
    byte[] base64 = new byte[to - from];
    int length = 0;
    for (int line = from, next; line < to; line = next) {
      next = Math.min(lineEnd(text, line), to);
      int lineStart = length;
      for (int i = line; i < next; i++) {
        char c = text.charAt(i);
        if (c == ':') {
          length = lineStart;
          break;
        }
        if (!Character.isWhitespace(c)) {
          // A non-ASCII character cast to a byte could turn into a valid base64 character.
          base64[length++] = c < 0x80 ? (byte) c : (byte) '?';
        }
      }
    }
    try {
      return Base64.getDecoder().decode(Arrays.copyOf(base64, length));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid PEM: the base64 of the " + label
          + " block is invalid (" + e.getMessage() + ")", e);
    }
  }
}
