package io.iidca.ca.aws;

/**
 * A signature or PKCS#7 that fails a check before or during verification. Its message is the
 * detail that {@link AwsDocumentVerifier} adds to the rejection, so it never contains the
 * signature or document bytes.
 */
final class InvalidSignatureException extends Exception {

  private static final long serialVersionUID = 1L;

  InvalidSignatureException(String detail) {
    super(detail);
  }

  InvalidSignatureException(String detail, Throwable cause) {
    super(detail, cause);
  }
}
