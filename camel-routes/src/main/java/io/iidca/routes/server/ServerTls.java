package io.iidca.routes.server;

import io.iidca.ca.pki.CertificateTemplate;
import io.iidca.ca.pki.Issuer;
import io.iidca.ca.pki.KeySpec;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.camel.support.jsse.KeyManagersParameters;
import org.apache.camel.support.jsse.KeyStoreParameters;
import org.apache.camel.support.jsse.SSLContextParameters;
import org.apache.camel.support.jsse.SecureSocketProtocolsParameters;

/**
 * The CA's own TLS identity: a fresh ECDSA P-256 key and a certificate signed by the
 * intermediate for the configured DNS names and addresses, made at every start, so that no
 * server key is stored on disk.
 *
 * <p>NOTE: the certificate lives {@link #LIFETIME}; a CA that runs longer than that without a
 * restart serves an expired certificate. Restart it at least monthly until rotation in place
 * exists.
 */
final class ServerTls {

  static final Duration LIFETIME = Duration.ofDays(30);
  private static final char[] IN_MEMORY_PASSWORD = "iidca-in-memory".toCharArray();

  private ServerTls() {}

  static SSLContextParameters create(Issuer issuer, List<String> dnsNames, Instant now)
      throws GeneralSecurityException, java.io.IOException {
    KeyPair keys = KeySpec.EC_P256.generate();
    X509Certificate certificate = issuer.issue(new CertificateTemplate(dnsNames.get(0),
        dnsNames, keys.getPublic(), now.minus(Duration.ofMinutes(1)), now.plus(LIFETIME),
        null));
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry("iidca", keys.getPrivate(), IN_MEMORY_PASSWORD,
        new Certificate[] {certificate, issuer.certificate()});

    KeyStoreParameters storeParameters = new KeyStoreParameters();
    storeParameters.setKeyStore(store);
    storeParameters.setPassword(new String(IN_MEMORY_PASSWORD));
    KeyManagersParameters keyManagers = new KeyManagersParameters();
    keyManagers.setKeyStore(storeParameters);
    keyManagers.setKeyPassword(new String(IN_MEMORY_PASSWORD));

    SSLContextParameters parameters = new SSLContextParameters();
    parameters.setKeyManagers(keyManagers);
    SecureSocketProtocolsParameters protocols = new SecureSocketProtocolsParameters();
    protocols.setSecureSocketProtocol(List.of("TLSv1.3", "TLSv1.2"));
    parameters.setSecureSocketProtocols(protocols);
    return parameters;
  }
}
