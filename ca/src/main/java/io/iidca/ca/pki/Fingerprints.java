package io.iidca.ca.pki;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.Locale;

/** SHA-256 fingerprints in lower-case hex, as step-ca and {@code openssl x509 -fingerprint} use. */
public final class Fingerprints {

  private Fingerprints() {}

  /** Returns the SHA-256 of the certificate's DER encoding, in lower-case hex. */
  public static String of(X509Certificate certificate) {
    try {
      return sha256Hex(certificate.getEncoded());
    } catch (CertificateEncodingException e) {
      throw new IllegalArgumentException("certificate cannot be encoded", e);
    }
  }

  /** Returns the SHA-256 of the key's SubjectPublicKeyInfo DER, in lower-case hex. */
  public static String of(PublicKey key) {
    return sha256Hex(key.getEncoded());
  }

  public static String sha256Hex(byte[] data) {
    return HexFormat.of().formatHex(sha256(data));
  }

  public static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java platform", e);
    }
  }

  /**
   * Normalizes a fingerprint typed by a user: strips colons and spaces and lower-cases it.
   *
   * @throws IllegalArgumentException if the result is not 64 hex digits
   */
  public static String normalize(String typed) {
    String hex = typed.replace(":", "").replace(" ", "").toLowerCase(Locale.ROOT);
    if (!hex.matches("[0-9a-f]{64}")) {
      throw new IllegalArgumentException("fingerprint " + typed
          + " is not a SHA-256 fingerprint: expected 64 hex digits");
    }
    return hex;
  }
}
