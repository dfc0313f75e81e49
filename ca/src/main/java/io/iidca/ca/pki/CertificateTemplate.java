package io.iidca.ca.pki;

import java.security.PublicKey;
import java.time.Instant;
import java.util.List;

/**
 * What policy decided a leaf certificate holds. The signer builds the certificate from this and
 * nothing else, so no field of a CSR reaches a certificate unless policy put it here.
 *
 * @param sans names in the order they appear in the certificate; see {@link SubjectNames}
 */
public record CertificateTemplate(
    String commonName,
    List<String> sans,
    PublicKey publicKey,
    Instant notBefore,
    Instant notAfter,
    IidcaExtension identity) {

  public CertificateTemplate {
    sans = List.copyOf(sans);
  }
}
