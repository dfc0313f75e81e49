package io.iidca.routes.client;

import io.iidca.ca.pki.Pem;
import io.iidca.ca.pki.SubjectNames;
import java.io.IOException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.interfaces.ECKey;
import java.util.List;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * Builds a PKCS#10 request (RFC 2986) with CN = subject and the requested SANs. Bouncy Castle
 * encodes the request, and the first installed JCA provider that offers the signature
 * algorithm signs it. In the client that is SunEC or SunRsaSign, because its JVM registers no
 * provider before them, so a cold client does not register Bouncy Castle's provider.
 */
public final class CsrBuilder {

  private CsrBuilder() {}

  public static String build(KeyPair keys, String subject, List<String> sans) {
    try {
      // A UTF8String value, because the builder's string form reads a leading # as hex DER
      // and drops the backslash of a leading \#.
      PKCS10CertificationRequestBuilder builder = new JcaPKCS10CertificationRequestBuilder(
          new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, new DERUTF8String(subject))
              .build(),
          keys.getPublic());
      if (!sans.isEmpty()) {
        ExtensionsGenerator extensions = new ExtensionsGenerator();
        extensions.addExtension(Extension.subjectAlternativeName, false,
            SubjectNames.toGeneralNames(sans));
        builder.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest,
            extensions.generate());
      }
      return Pem.encode(builder.build(signer(keys.getPrivate())));
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode the certificate request", e);
    }
  }

  /** Returns a signer with the installed JCA providers for {@link #signatureAlgorithm}. */
  private static ContentSigner signer(PrivateKey key) {
    try {
      return new JcaContentSignerBuilder(signatureAlgorithm(key)).build(key);
    } catch (OperatorCreationException e) {
      throw new IllegalStateException("cannot sign a certificate request with a "
          + key.getAlgorithm() + " key", e);
    }
  }

  /**
   * Returns the JCA signature algorithm for a key, the same choice as the CA's own
   * certificates: ECDSA with SHA-384 above 256-bit curves, else SHA-256; RSA with SHA-256; or
   * Ed25519. SunEC names an Ed25519 key "EdDSA" and Bouncy Castle "Ed25519".
   */
  static String signatureAlgorithm(PrivateKey key) {
    return switch (key.getAlgorithm()) {
      case "EC", "ECDSA" -> key instanceof ECKey ec
          && ec.getParams().getCurve().getField().getFieldSize() > 256
          ? "SHA384withECDSA" : "SHA256withECDSA";
      case "RSA" -> "SHA256withRSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> throw new IllegalArgumentException("unsupported key type "
          + key.getAlgorithm() + " for a certificate request: use EC, RSA or Ed25519");
    };
  }
}
