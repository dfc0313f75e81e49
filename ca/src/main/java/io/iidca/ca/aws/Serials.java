package io.iidca.ca.aws;

import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.util.Locale;

/** Formats certificate serial numbers as {@code openssl x509 -serial} prints them. */
final class Serials {

  private Serials() {}

  /** Returns the serial in upper-case hex with an even number of digits. */
  static String hex(BigInteger serial) {
    String hex = serial.toString(16).toUpperCase(Locale.ROOT);
    return hex.length() % 2 == 0 ? hex : "0" + hex;
  }

  static String of(X509Certificate certificate) {
    return hex(certificate.getSerialNumber());
  }
}
