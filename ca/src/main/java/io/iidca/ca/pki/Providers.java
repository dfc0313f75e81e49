package io.iidca.ca.pki;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JCA providers for the hot path.
 *
 * <p>Signatures, digests and EC or RSA keys go through Amazon Corretto Crypto Provider (ACCP),
 * which calls AWS-LC natively and signs ECDSA P-256 several times faster than Bouncy Castle
 * ({@code bench/run --costs}). ACCP is used only when its native library loads and passes its
 * self-tests, and only for the algorithms it offers. Bouncy Castle serves everything else, such
 * as Ed25519, and all of it on a platform without ACCP's library, which is logged once. Bouncy
 * Castle always parses CMS and builds X.509 structures. ACCP is registered with the JCA only by
 * {@link #preferNativeProvider()}, which the CA's HTTPS server calls for its TLS handshakes.
 *
 * <p>Each provider loads on first use, in a holder class, so that a short-lived client that
 * needs neither does not pay for them. In a class-load log of {@code iidca certificate} (JDK 17,
 * 2-core VM), registering Bouncy Castle took about 40 ms, and loading ACCP's native library
 * with its self-tests about 80 ms. Any method that may use ACCP registers Bouncy Castle
 * first, so the JCA's provider order is the same whichever method a process calls first.
 *
 * <p>Thread-safe: each provider is chosen once, when its holder class loads.
 */
public final class Providers {

  private static final Logger LOG = LoggerFactory.getLogger(Providers.class);

  private Providers() {}

  /** Bouncy Castle, registered with the JCA when this class loads. */
  private static final class BouncyCastleHolder {
    static final Provider PROVIDER = install();
  }

  /** ACCP, or null when it is not usable. Loads Bouncy Castle's holder before it. */
  private static final class NativeHolder {
    static final Provider BOUNCY_CASTLE = BouncyCastleHolder.PROVIDER;
    static final Provider PROVIDER = loadNative();
  }

  /** Returns the Bouncy Castle provider, registered once with the JCA. */
  public static Provider bouncyCastle() {
    return BouncyCastleHolder.PROVIDER;
  }

  /** Returns the provider for signatures and digests: ACCP when usable, else Bouncy Castle. */
  public static Provider signatures() {
    Provider nativeProvider = NativeHolder.PROVIDER;
    return nativeProvider != null ? nativeProvider : NativeHolder.BOUNCY_CASTLE;
  }

  /**
   * Registers ACCP as the JCA's first provider, once, so that code that names no provider,
   * such as the JDK's TLS, signs, verifies and agrees on EC keys natively. The JDK keeps
   * serving what ACCP lacks, such as X25519 and key stores. Does nothing when ACCP is not
   * loaded.
   */
  public static synchronized void preferNativeProvider() {
    Provider nativeProvider = NativeHolder.PROVIDER;
    if (nativeProvider == null || Security.getProvider(nativeProvider.getName()) != null) {
      return;
    }
    Security.insertProviderAt(nativeProvider, 1);
    LOG.info("registered Amazon Corretto Crypto Provider {} as the first JCA provider",
        ((AmazonCorrettoCryptoProvider) nativeProvider).getVersionStr());
  }

  /** Returns whether ACCP loaded and passed its self-tests. */
  public static boolean nativeLoaded() {
    return NativeHolder.PROVIDER != null;
  }

  /**
   * Returns a new {@link Signature} for a JCA algorithm name, from {@link #signatures()} when it
   * offers the algorithm, else from Bouncy Castle.
   *
   * @throws NoSuchAlgorithmException if neither provider offers it
   */
  public static Signature signature(String algorithm) throws NoSuchAlgorithmException {
    Provider nativeProvider = NativeHolder.PROVIDER;
    if (nativeProvider != null && nativeProvider.getService("Signature", algorithm) != null) {
      return Signature.getInstance(algorithm, nativeProvider);
    }
    return Signature.getInstance(algorithm, NativeHolder.BOUNCY_CASTLE);
  }

  /** Returns a new {@link MessageDigest}, from ACCP when it offers the algorithm. */
  public static MessageDigest digest(String algorithm) throws NoSuchAlgorithmException {
    Provider nativeProvider = NativeHolder.PROVIDER;
    if (nativeProvider != null && nativeProvider.getService("MessageDigest", algorithm) != null) {
      return MessageDigest.getInstance(algorithm, nativeProvider);
    }
    return MessageDigest.getInstance(algorithm, NativeHolder.BOUNCY_CASTLE);
  }

  /**
   * Returns the provider that signs with {@code key} in {@code algorithm}: ACCP when it offers
   * the algorithm and accepts the key, else Bouncy Castle.
   */
  public static Provider signerFor(String algorithm, PrivateKey key) {
    Provider nativeProvider = NativeHolder.PROVIDER;
    if (nativeProvider == null || nativeProvider.getService("Signature", algorithm) == null) {
      return NativeHolder.BOUNCY_CASTLE;
    }
    try {
      Signature.getInstance(algorithm, nativeProvider).initSign(key);
      return nativeProvider;
    } catch (InvalidKeyException | NoSuchAlgorithmException e) {
      return NativeHolder.BOUNCY_CASTLE;
    }
  }

  /**
   * Converts a private key to ACCP's own type once, from its PKCS#8 encoding, so that each
   * signature does not convert it again. Returns the key unchanged when ACCP is not loaded or
   * cannot read it. Bouncy Castle names EC keys "ECDSA", which ACCP does not accept as a key
   * algorithm, so the key type is read from the name instead of being passed on.
   */
  public static PrivateKey nativeKey(PrivateKey key) {
    return nativeKey(key, (factory, encoded) ->
        factory.generatePrivate(new PKCS8EncodedKeySpec(encoded)), "signing with Bouncy Castle");
  }

  /**
   * Converts a public key to ACCP's own type once, from its X.509 encoding, so that each
   * signature check does not convert it again: an RSA-2048 check took 18 to 20 µs with the
   * converted key and 24 to 25 µs with the JDK's ({@code bench/run --costs}). Returns the key
   * unchanged when ACCP is not loaded or cannot read it.
   */
  public static PublicKey nativeKey(PublicKey key) {
    return nativeKey(key, (factory, encoded) ->
        factory.generatePublic(new X509EncodedKeySpec(encoded)), "checking with the key as it is");
  }

  /** A reader of a key's encoding into a key of the factory's provider. */
  private interface KeyReader<K extends Key> {
    K read(KeyFactory factory, byte[] encoded) throws InvalidKeySpecException;
  }

  /**
   * Converts {@code key} with ACCP's key factory, or returns it unchanged and logs why, with
   * {@code otherwise} naming what the caller then does.
   */
  private static <K extends Key> K nativeKey(K key, KeyReader<K> reader, String otherwise) {
    String keyType = switch (key.getAlgorithm()) {
      case "EC", "ECDSA" -> "EC";
      case "RSA" -> "RSA";
      default -> null;
    };
    byte[] encoded = key.getEncoded();
    Provider nativeProvider = NativeHolder.PROVIDER;
    if (nativeProvider == null || keyType == null || encoded == null) {
      return key;
    }
    try {
      return reader.read(KeyFactory.getInstance(keyType, nativeProvider), encoded);
    } catch (InvalidKeySpecException | NoSuchAlgorithmException e) {
      LOG.info("Amazon Corretto Crypto Provider cannot read the {} key: {}; {}",
          key.getAlgorithm(), e.toString(), otherwise);
      return key;
    }
  }

  private static Provider install() {
    Provider existing = Security.getProvider(BouncyCastleProvider.PROVIDER_NAME);
    if (existing != null) {
      return existing;
    }
    Provider provider = new BouncyCastleProvider();
    Security.addProvider(provider);
    return provider;
  }

  /**
   * Returns ACCP when its native library loaded and its self-tests pass, else null. A missing
   * class (ACCP left off the class path) counts as not loaded.
   */
  private static Provider loadNative() {
    String platform = System.getProperty("os.name") + "/" + System.getProperty("os.arch");
    try {
      AmazonCorrettoCryptoProvider provider = AmazonCorrettoCryptoProvider.INSTANCE;
      Throwable error = provider.getLoadingError();
      if (error != null) {
        LOG.info("Amazon Corretto Crypto Provider did not load on {}: {}; signing with Bouncy"
            + " Castle", platform, error.toString());
        return null;
      }
      provider.assertHealthy();
      LOG.debug("signing with Amazon Corretto Crypto Provider {}", provider.getVersionStr());
      return provider;
    } catch (LinkageError | RuntimeException e) {
      LOG.info("Amazon Corretto Crypto Provider is not usable on {}: {}; signing with Bouncy"
          + " Castle", platform, e.toString());
      return null;
    }
  }
}
