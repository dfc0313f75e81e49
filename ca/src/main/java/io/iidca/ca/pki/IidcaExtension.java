package io.iidca.ca.pki;

import java.io.IOException;
import java.security.cert.X509Certificate;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.ASN1UTF8String;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERUTF8String;

/**
 * The non-critical extension that records who vouched for a certificate: provisioner type and
 * name, the instance id and the cloud account (AWS account, GCP project, Azure subscription).
 *
 * <p>Encoding: {@code SEQUENCE { type UTF8String, provisioner UTF8String, instanceId
 * UTF8String, account UTF8String }}. The OID sits under 2.25, the arc for UUID-based OIDs (ITU-T
 * X.667), so it needs no registration: 2.25 followed by the UUID
 * bdad1335-c927-40e1-9d44-6d5084808d67 as a decimal integer.
 *
 * <p>NOTE: that last arc needs 128 bits. OpenSSL, the JDK and Bouncy Castle parse it, but
 * parsers that limit arcs to 64 bits or less reject the whole certificate: Debian 12's
 * python3-cryptography 38.0.4 does, and Go's crypto/x509 is expected to. Moving the extension
 * under a registered enterprise number would fix this.
 */
public record IidcaExtension(String type, String provisioner, String instanceId,
    String account) {

  public static final ASN1ObjectIdentifier OID =
      new ASN1ObjectIdentifier("2.25.252122748187004649270663210061940165991");

  public byte[] encode() {
    ASN1EncodableVector vector = new ASN1EncodableVector();
    vector.add(new DERUTF8String(type));
    vector.add(new DERUTF8String(provisioner));
    vector.add(new DERUTF8String(instanceId));
    vector.add(new DERUTF8String(account));
    try {
      return new DERSequence(vector).getEncoded();
    } catch (IOException e) {
      throw new IllegalStateException("DER encoding failed", e);
    }
  }

  /** Reads the extension from a certificate, if present and well formed. */
  public static Optional<IidcaExtension> from(X509Certificate certificate) {
    byte[] wrapped = certificate.getExtensionValue(OID.getId());
    if (wrapped == null) {
      return Optional.empty();
    }
    try {
      ASN1Primitive inner = ASN1Primitive.fromByteArray(
          ASN1OctetString.getInstance(wrapped).getOctets());
      ASN1Sequence sequence = ASN1Sequence.getInstance(inner);
      return Optional.of(new IidcaExtension(
          ASN1UTF8String.getInstance(sequence.getObjectAt(0)).getString(),
          ASN1UTF8String.getInstance(sequence.getObjectAt(1)).getString(),
          ASN1UTF8String.getInstance(sequence.getObjectAt(2)).getString(),
          ASN1UTF8String.getInstance(sequence.getObjectAt(3)).getString()));
    } catch (IOException | IllegalArgumentException | IndexOutOfBoundsException e) {
      return Optional.empty();
    }
  }
}
