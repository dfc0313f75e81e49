package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.ca.pki.CaCertificates;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Providers;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link ClientKeyManager}: it offers its one identity for the key's own TLS key type only,
 * in the JDK's key type, never as a server, and rejects a key type that TLS cannot use.
 */
class ClientKeyManagerTest {

  private static final KeyPair KEYS = KeySpec.EC_P256.generate();
  private static final X509Certificate CERTIFICATE = CaCertificates.root("Test", KEYS,
      Instant.now());

  /** Returns the key as KeyFiles.read returns it: from Bouncy Castle's "ECDSA" key factory. */
  private static PrivateKey bouncyCastleEcdsaKey() throws GeneralSecurityException {
    return KeyFactory.getInstance("ECDSA", Providers.bouncyCastle())
        .generatePrivate(new PKCS8EncodedKeySpec(KEYS.getPrivate().getEncoded()));
  }

  @Test
  void bouncyCastleKeyBecomesJdkKey() throws Exception {
    PrivateKey bouncyCastleKey = bouncyCastleEcdsaKey();
    ClientKeyManager manager = new ClientKeyManager(bouncyCastleKey, List.of(CERTIFICATE));

    assertThat(bouncyCastleKey.getAlgorithm()).isEqualTo("ECDSA");
    assertThat(manager.chooseEngineClientAlias(new String[] {"RSA", "EC"}, null, null))
        .isEqualTo(ClientKeyManager.ALIAS);
    PrivateKey key = manager.getPrivateKey(ClientKeyManager.ALIAS);
    assertThat(key.getAlgorithm()).isEqualTo("EC");
    assertThat(key.getEncoded()).isNotNull();
    assertThat(manager.getCertificateChain(ClientKeyManager.ALIAS))
        .containsExactly(CERTIFICATE);
  }

  @Test
  void otherKeyTypesAndAliasesGetNothing() throws Exception {
    ClientKeyManager manager = new ClientKeyManager(bouncyCastleEcdsaKey(),
        List.of(CERTIFICATE));

    assertThat(manager.chooseClientAlias(new String[] {"RSA", "EdDSA"}, null, null)).isNull();
    assertThat(manager.chooseEngineClientAlias(null, null, null)).isNull();
    assertThat(manager.getClientAliases("RSA", null)).isNull();
    assertThat(manager.getClientAliases("EC", null)).containsExactly(ClientKeyManager.ALIAS);
    assertThat(manager.getPrivateKey("other")).isNull();
    assertThat(manager.getCertificateChain("other")).isNull();
  }

  @Test
  void serverAliasesAreNeverOffered() throws Exception {
    ClientKeyManager manager = new ClientKeyManager(bouncyCastleEcdsaKey(),
        List.of(CERTIFICATE));

    assertThat(manager.getServerAliases("EC", null)).isNull();
    assertThat(manager.chooseServerAlias("EC", null, null)).isNull();
    assertThat(manager.chooseEngineServerAlias("EC", null, null)).isNull();
  }

  @Test
  void unsupportedKeyTypeIsRejected() throws Exception {
    PrivateKey dsa = java.security.KeyPairGenerator.getInstance("DSA").generateKeyPair()
        .getPrivate();

    assertThatThrownBy(() -> new ClientKeyManager(dsa, List.of(CERTIFICATE)))
        .isInstanceOf(GeneralSecurityException.class)
        .hasMessage("unsupported client key type DSA for mutual TLS: use EC, RSA or Ed25519");
  }
}
