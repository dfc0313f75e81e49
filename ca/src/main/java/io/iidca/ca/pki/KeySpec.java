package io.iidca.ca.pki;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.spec.ECGenParameterSpec;
import java.util.Locale;

/**
 * A key type as users name it, with step's flag names: {@code --kty EC --curve P-256},
 * {@code --kty RSA --size 2048}, {@code --kty OKP --curve Ed25519}.
 */
public record KeySpec(String kty, String curve, int size) {

  public static final KeySpec EC_P256 = new KeySpec("EC", "P-256", 0);

  /**
   * Builds a spec from flag values; nulls take the defaults (EC P-256, RSA 2048, OKP Ed25519).
   *
   * @throws IllegalArgumentException naming the value and the accepted ones
   */
  public static KeySpec of(String kty, String curve, Integer size) {
    String type = kty == null ? "EC" : kty.toUpperCase(Locale.ROOT);
    switch (type) {
      case "EC" -> {
        String name = curve == null ? "P-256" : curve.toUpperCase(Locale.ROOT);
        if (!name.equals("P-256") && !name.equals("P-384") && !name.equals("P-521")) {
          throw new IllegalArgumentException("unsupported curve '" + curve
              + "' for --kty EC: use P-256, P-384 or P-521");
        }
        return new KeySpec("EC", name, 0);
      }
      case "RSA" -> {
        int bits = size == null ? 2048 : size;
        if (bits < 2048 || bits > 8192 || bits % 8 != 0) {
          throw new IllegalArgumentException("unsupported RSA size " + bits
              + ": use a multiple of 8 from 2048 to 8192 bits");
        }
        return new KeySpec("RSA", null, bits);
      }
      case "OKP" -> {
        if (curve != null && !curve.equalsIgnoreCase("Ed25519")) {
          throw new IllegalArgumentException("unsupported curve '" + curve
              + "' for --kty OKP: use Ed25519");
        }
        return new KeySpec("OKP", "Ed25519", 0);
      }
      default -> throw new IllegalArgumentException("unsupported key type '" + kty
          + "': use EC, RSA or OKP");
    }
  }

  /** Generates a key pair of this type with Bouncy Castle. */
  public KeyPair generate() {
    try {
      return generator(Providers.bouncyCastle()).generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate a " + this + " key", e);
    }
  }

  /**
   * Generates a key pair of this type with the first installed JCA provider that offers it,
   * which is the JDK's SunEC or SunRsaSign in a JVM that has not registered ACCP. A client uses
   * it so that a cold JVM does not register Bouncy Castle for its key. Falls back to Bouncy
   * Castle when no installed provider offers the type, as in a runtime without SunEC.
   */
  public KeyPair generateWithInstalledProviders() {
    KeyPairGenerator generator;
    try {
      generator = generator(null);
    } catch (GeneralSecurityException e) {
      return generate();
    }
    return generator.generateKeyPair();
  }

  /** Returns an initialized generator from {@code provider}, or the installed ones for null. */
  private KeyPairGenerator generator(Provider provider) throws GeneralSecurityException {
    String algorithm = switch (kty) {
      case "EC" -> "EC";
      case "RSA" -> "RSA";
      default -> "Ed25519";
    };
    KeyPairGenerator generator = provider == null ? KeyPairGenerator.getInstance(algorithm)
        : KeyPairGenerator.getInstance(algorithm, provider);
    switch (kty) {
      case "EC" -> generator.initialize(
          new ECGenParameterSpec(curve.replace("P-", "secp") + "r1"));
      case "RSA" -> generator.initialize(size);
      default -> {
        // Ed25519 has a single parameter set.
      }
    }
    return generator;
  }

  @Override
  public String toString() {
    return kty.equals("RSA") ? "RSA " + size : kty + " " + curve;
  }
}
