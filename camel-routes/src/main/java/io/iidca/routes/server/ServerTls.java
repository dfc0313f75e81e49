package io.iidca.routes.server;

import io.iidca.ca.pki.CertificateTemplate;
import io.iidca.ca.pki.Issuer;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Pem;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.util.io.pem.PemGenerationException;

/**
 * The CA's own TLS identity: a fresh ECDSA P-256 key and a certificate signed by the
 * intermediate for the configured DNS names and addresses. A new one is made at every start and
 * replaces the old in place every {@link #ROTATION}, so no server key is stored on disk and none
 * expires while the CA runs.
 *
 * @param keyPem the private key, PKCS#8 PEM
 * @param chainPem the certificate followed by the intermediate, PEM
 */
record ServerTls(String keyPem, String chainPem, X509Certificate certificate) {

  static final Duration LIFETIME = Duration.ofDays(7);
  static final Duration ROTATION = Duration.ofDays(1);

  static ServerTls create(Issuer issuer, List<String> dnsNames, Instant now) {
    KeyPair keys = KeySpec.EC_P256.generate();
    X509Certificate certificate = issuer.issue(new CertificateTemplate(dnsNames.get(0),
        dnsNames, keys.getPublic(), now.minus(Duration.ofMinutes(1)), now.plus(LIFETIME),
        null));
    String keyPem;
    try {
      keyPem = Pem.encode(new JcaPKCS8Generator(keys.getPrivate(), null).generate());
    } catch (PemGenerationException e) {
      throw new IllegalStateException("cannot encode the TLS key", e);
    }
    return new ServerTls(keyPem, Pem.encode(certificate, issuer.certificate()), certificate);
  }
}
