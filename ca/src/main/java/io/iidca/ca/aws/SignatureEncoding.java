package io.iidca.ca.aws;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Decodes the signature bodies that callers pass: the base64 text that the metadata service
 * serves (with line breaks), the same text in PEM armour as the AWS EC2 User Guide shows it, or
 * the decoded bytes. Stateless and thread-safe.
 */
final class SignatureEncoding {

  /** Real signatures are under 2 KiB; the limit bounds the decoding work for hostile input. */
  static final int MAX_SIGNATURE_BYTES = 64 * 1024;

  private static final byte DER_SEQUENCE = 0x30;

  private SignatureEncoding() {}

  /**
   * Returns the DER (or BER) bytes of a PKCS#7 given as DER, as base64 text or as PEM. The
   * result is not parsed yet.
   */
  static byte[] pkcs7(byte[] input) throws InvalidSignatureException {
    checkSize(input);
    if (input[0] == DER_SEQUENCE) {
      return input;
    }
    String text = new String(input, StandardCharsets.US_ASCII).strip();
    byte[] decoded = decodeBase64(stripArmour(text));
    if (decoded.length == 0 || decoded[0] != DER_SEQUENCE) {
      throw new InvalidSignatureException("the PKCS#7 decodes to something other than a DER"
          + " SEQUENCE");
    }
    return decoded;
  }

  /**
   * Returns the bytes of a bare signature given as base64 text or as raw bytes. Input made only
   * of base64 characters and blanks is taken as text, because a raw RSA signature of 128 or
   * more random bytes has next to no chance of being all printable base64.
   */
  static byte[] raw(byte[] input) throws InvalidSignatureException {
    checkSize(input);
    for (byte b : input) {
      if (!isBase64TextByte(b)) {
        return input;
      }
    }
    return decodeBase64(new String(input, StandardCharsets.US_ASCII));
  }

  private static void checkSize(byte[] input) throws InvalidSignatureException {
    if (input.length == 0) {
      throw new InvalidSignatureException("the signature is empty");
    }
    if (input.length > MAX_SIGNATURE_BYTES) {
      throw new InvalidSignatureException("the signature is " + input.length
          + " bytes, more than the maximum of " + MAX_SIGNATURE_BYTES);
    }
  }

  /** Removes PEM armour ({@code -----BEGIN PKCS7-----} and its END line) if present. */
  private static String stripArmour(String text) throws InvalidSignatureException {
    if (!text.startsWith("-----BEGIN ")) {
      return text;
    }
    int headerEnd = text.indexOf("-----", "-----BEGIN ".length());
    int footer = text.lastIndexOf("-----END ");
    if (headerEnd < 0 || footer < headerEnd) {
      throw new InvalidSignatureException("the PEM armour around the PKCS#7 is incomplete");
    }
    String label = text.substring("-----BEGIN ".length(), headerEnd);
    String expectedFooter = "-----END " + label + "-----";
    if (!text.substring(footer).strip().equals(expectedFooter)) {
      throw new InvalidSignatureException("the PEM armour BEGIN " + label
          + " has no matching END line");
    }
    return text.substring(headerEnd + "-----".length(), footer);
  }

  private static byte[] decodeBase64(String text) throws InvalidSignatureException {
    String compact = text.replaceAll("\\s+", "");
    try {
      return Base64.getDecoder().decode(compact);
    } catch (IllegalArgumentException e) {
      throw new InvalidSignatureException("the signature is neither DER nor valid base64: "
          + e.getMessage(), e);
    }
  }

  private static boolean isBase64TextByte(byte b) {
    return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9')
        || b == '+' || b == '/' || b == '=' || b == '\n' || b == '\r' || b == ' ' || b == '\t';
  }
}
