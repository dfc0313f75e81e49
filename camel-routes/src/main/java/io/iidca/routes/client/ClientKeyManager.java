package io.iidca.routes.client;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A TLS key manager with exactly one client identity: the key and certificate chain that a
 * renewal or a re-enrollment presents for mutual TLS. It offers that identity for any key type
 * that matches the key's algorithm and ignores the server's list of accepted issuers, because
 * the CA's own intermediate issued the certificate. It offers no server identity.
 *
 * <p>It replaces a PKCS#12 key store and the JDK's {@code KeyManagerFactory}, which encrypt and
 * decrypt the key with PBKDF2 (10,000 iterations in JDK 17) in every client start. Immutable
 * and thread-safe.
 */
final class ClientKeyManager extends X509ExtendedKeyManager {

  static final String ALIAS = "iidca-client";

  private final PrivateKey key;
  private final X509Certificate[] chain;

  /**
   * Creates the key manager. The key is converted to the first installed provider's type
   * through its PKCS#8 encoding. The JDK's TLS accepts a key only when its algorithm name is
   * the TLS key type, and Bouncy Castle names EC keys "ECDSA" where the JDK expects "EC".
   *
   * @param chain the client's certificate first, then the intermediate
   * @throws GeneralSecurityException if no installed provider reads the key
   */
  ClientKeyManager(PrivateKey key, List<X509Certificate> chain)
      throws GeneralSecurityException {
    this.key = KeyFactory.getInstance(keyFactoryAlgorithm(key))
        .generatePrivate(new PKCS8EncodedKeySpec(key.getEncoded()));
    this.chain = chain.toArray(new X509Certificate[0]);
  }

  private static String keyFactoryAlgorithm(PrivateKey key) throws GeneralSecurityException {
    return switch (key.getAlgorithm()) {
      case "EC", "ECDSA" -> "EC";
      case "RSA" -> "RSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> throw new GeneralSecurityException("unsupported client key type "
          + key.getAlgorithm() + " for mutual TLS: use EC, RSA or Ed25519");
    };
  }

  private String matchingAlias(String... keyTypes) {
    if (keyTypes == null) {
      return null;
    }
    return Arrays.asList(keyTypes).contains(key.getAlgorithm()) ? ALIAS : null;
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return matchingAlias(keyType) == null ? null : new String[] {ALIAS};
  }

  @Override
  public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
    return matchingAlias(keyTypes);
  }

  @Override
  public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers,
      SSLEngine engine) {
    return matchingAlias(keyTypes);
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return null;
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers,
      SSLEngine engine) {
    return null;
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    return ALIAS.equals(alias) ? chain.clone() : null;
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    return ALIAS.equals(alias) ? key : null;
  }
}
