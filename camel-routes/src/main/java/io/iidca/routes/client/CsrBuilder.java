package io.iidca.routes.client;

import io.iidca.ca.pki.CaCertificates;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.pki.SubjectNames;
import java.io.IOException;
import java.security.KeyPair;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** Builds a PKCS#10 request with CN = subject and the requested SANs. */
public final class CsrBuilder {

  private CsrBuilder() {}

  public static String build(KeyPair keys, String subject, List<String> sans) {
    try {
      PKCS10CertificationRequestBuilder builder = new JcaPKCS10CertificationRequestBuilder(
          new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, subject).build(),
          keys.getPublic());
      if (!sans.isEmpty()) {
        ExtensionsGenerator extensions = new ExtensionsGenerator();
        extensions.addExtension(Extension.subjectAlternativeName, false,
            SubjectNames.toGeneralNames(sans));
        builder.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest,
            extensions.generate());
      }
      return Pem.encode(builder.build(CaCertificates.signer(keys.getPrivate())));
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode the certificate request", e);
    }
  }
}
