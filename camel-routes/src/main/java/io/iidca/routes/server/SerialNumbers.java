package io.iidca.routes.server;

import io.iidca.ca.error.MalformedRequestException;
import java.math.BigInteger;
import java.util.Locale;

/**
 * Reads a certificate serial as users type it: decimal as step and {@code iidca inspect} print
 * it, or hexadecimal with a {@code 0x} prefix or colons. Returns the store's form, lower-case
 * hex without leading zeros.
 */
final class SerialNumbers {

  private SerialNumbers() {}

  static String parse(String typed, String stage) {
    String text = typed == null ? "" : typed.strip().toLowerCase(Locale.ROOT);
    try {
      BigInteger serial;
      if (text.startsWith("0x")) {
        serial = new BigInteger(text.substring(2), 16);
      } else if (text.contains(":")) {
        serial = new BigInteger(text.replace(":", ""), 16);
      } else {
        serial = new BigInteger(text, 10);
      }
      if (serial.signum() <= 0 || serial.bitLength() > 160) {
        throw new NumberFormatException("out of range");
      }
      return serial.toString(16);
    } catch (NumberFormatException e) {
      throw new MalformedRequestException(stage, "serial '" + text.replaceAll("[\\r\\n]", "")
          + "' is not a certificate serial: give it in decimal, or in hex with a 0x prefix");
    }
  }
}
