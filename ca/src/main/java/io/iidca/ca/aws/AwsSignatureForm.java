package io.iidca.ca.aws;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The three signatures that the EC2 instance metadata service serves beside
 * {@code /latest/dynamic/instance-identity/document}, named by their metadata path. The AWS EC2
 * User Guide describes each on its own "Verify the instance identity document" page.
 *
 * <ul>
 *   <li>{@link #RSA2048}: a PKCS#7 (CMS SignedData) with RSA-2048 and SHA-256, per region.
 *   <li>{@link #SIGNATURE}: a bare RSA PKCS#1 v1.5 signature with SHA-256 over the document,
 *       made with an RSA-1024 key.
 *   <li>{@link #PKCS7}: the legacy PKCS#7 with DSA and SHA-1 (RSA in the China regions).
 * </ul>
 */
public enum AwsSignatureForm {
  RSA2048("rsa2048"),
  SIGNATURE("signature"),
  PKCS7("pkcs7");

  private final String path;

  AwsSignatureForm(String path) {
    this.path = path;
  }

  /** Returns the last segment of the metadata path, such as {@code rsa2048}. */
  public String path() {
    return path;
  }

  /**
   * Returns the form for a metadata path segment, ignoring case and surrounding blanks.
   *
   * @throws IllegalArgumentException if the path names no form
   */
  public static AwsSignatureForm fromPath(String path) {
    if (path != null) {
      String normalized = path.strip().toLowerCase(Locale.ROOT);
      for (AwsSignatureForm form : values()) {
        if (form.path.equals(normalized)) {
          return form;
        }
      }
    }
    String accepted = Arrays.stream(values())
        .map(AwsSignatureForm::path)
        .collect(Collectors.joining(", "));
    throw new IllegalArgumentException("AWS signature form " + (path == null ? "null" : "'"
        + path + "'") + " is not supported: expected one of " + accepted);
  }

  /** Returns {@link #path()}, so that messages and sets print the metadata names. */
  @Override
  public String toString() {
    return path;
  }
}
