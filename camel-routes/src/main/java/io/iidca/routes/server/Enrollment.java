package io.iidca.routes.server;

import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.CertificateRequest;
import io.iidca.ca.pki.CertificateTemplate;
import io.iidca.ca.pki.IssuedCertificate;
import io.iidca.ca.provisioner.AwsToken;
import io.iidca.ca.provisioner.VerifiedIdentity;
import java.security.cert.X509Certificate;
import java.time.Instant;

/**
 * The state of one sign request as it moves through the pipeline. Each stage fills in its part;
 * the audit line reads whatever was reached. One instance per exchange, so no locking.
 */
public final class Enrollment {

  /** Exchange property under which the pipeline keeps this object. */
  public static final String PROPERTY = "iidcaEnrollment";
  /** Exchange property holding the provider type, which names the verify route. */
  public static final String PROVIDER_PROPERTY = "iidcaProviderType";

  final String requestId;
  final Instant receivedAt;
  String providerType;
  /**
   * The sign request's body as received, which a possession token's body hash covers; the
   * decode stage clears the message body.
   */
  byte[] requestBody;
  String csrPem;
  String ott;
  /** The provisioner name the body gives (Azure), or null. */
  String provisionerName;
  /** The attested document's base64 PKCS#7 (Azure), or null. */
  String attestedDocument;
  Instant notBefore;
  Instant notAfter;
  CertificateRequest csr;
  /**
   * The provisioners in use when the identify stage ran. The verify stages take theirs from
   * the same set, also after a reload replaced it.
   */
  CaRuntime.Provisioners provisioners;
  ProvisionerConfig provisioner;
  AwsToken awsToken;
  VerifiedIdentity identity;
  CertificateTemplate template;
  /** The signed certificate; record and respond read its PEM, which it encodes once. */
  IssuedCertificate certificate;
  /** Whether the record stage put the certificate of an earlier, repeated request in place. */
  boolean repeated;
  /** The audit event: sign, renew or rekey. */
  String event = "sign";
  boolean rekey;
  /** The certificate a renewal replaces, or null for an enrollment. */
  io.iidca.ca.store.CertificateRecord renewedFrom;
  /** A registered instance may enroll again as this allows. */
  io.iidca.ca.store.Issuance.Reenrollment reenrollment =
      io.iidca.ca.store.Issuance.Reenrollment.NONE;

  Enrollment(String requestId, Instant receivedAt) {
    this.requestId = requestId;
    this.receivedAt = receivedAt;
  }

  public String requestId() {
    return requestId;
  }

  /**
   * Returns the provider type, lower case, that selects the verify route: {@code aws},
   * {@code gcp} or {@code azure}.
   */
  public String providerType() {
    return providerType;
  }

  public VerifiedIdentity identity() {
    return identity;
  }

  /** The signed certificate, parsed on first use; null before the sign stage. */
  public X509Certificate certificate() {
    return certificate == null ? null : certificate.x509();
  }
}
