package io.iidca.ca.pki;

import io.iidca.ca.io.AtomicFiles;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;

/**
 * Private key files in PEM: PKCS#8 (RFC 5208), encrypted with PBES2 (PBKDF2 with HMAC-SHA256 and
 * AES-256-CBC, RFC 8018) for CA keys, or unencrypted for leaf keys. Every file is written with
 * mode 0600 through {@link AtomicFiles}.
 */
public final class KeyFiles {

  /**
   * PBKDF2 iterations for CA keys. A key is decrypted once per CA start, so a high count costs
   * little; 600,000 is OWASP's 2023 figure for PBKDF2-HMAC-SHA256.
   */
  static final int PBKDF2_ITERATIONS = 600_000;

  private KeyFiles() {}

  /** Writes a private key encrypted with the password. */
  public static void writeEncrypted(Path file, PrivateKey key, char[] password)
      throws IOException {
    try {
      var encryptor = new JceOpenSSLPKCS8EncryptorBuilder(JcaPKCS8Generator.AES_256_CBC)
          .setPRF(PKCS8Generator.PRF_HMACSHA256)
          .setIterationCount(PBKDF2_ITERATIONS)
          .setProvider(Providers.bouncyCastle())
          .setPassword(password)
          .build();
      String pem = Pem.encode(new JcaPKCS8Generator(key, encryptor));
      AtomicFiles.write(file, pem.getBytes(StandardCharsets.US_ASCII), AtomicFiles.PRIVATE);
    } catch (OperatorCreationException e) {
      throw new IllegalStateException("cannot set up PKCS#8 encryption", e);
    }
  }

  /** Writes an unencrypted private key as PKCS#8 PEM. */
  public static void writePlain(Path file, PrivateKey key) throws IOException {
    String pem = Pem.encode(new JcaPKCS8Generator(key, null));
    AtomicFiles.write(file, pem.getBytes(StandardCharsets.US_ASCII), AtomicFiles.PRIVATE);
  }

  /**
   * Reads a private key, decrypting it with the password when it is encrypted.
   *
   * @throws IOException if the file cannot be read
   * @throws GeneralSecurityException naming the file if the password is wrong, the file is not
   *     valid PEM, or it contains no private key
   */
  public static PrivateKey read(Path file, char[] password)
      throws IOException, GeneralSecurityException {
    String text = Files.readString(file, StandardCharsets.US_ASCII);
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter()
        .setProvider(Providers.bouncyCastle());
    try (PEMParser parser = new PEMParser(new StringReader(text))) {
      Object object = readPem(parser, file);
      if (object instanceof PKCS8EncryptedPrivateKeyInfo encrypted) {
        if (password == null) {
          throw new GeneralSecurityException(file + " is encrypted: a password is required");
        }
        var decryptor = new JceOpenSSLPKCS8DecryptorProviderBuilder()
            .setProvider(Providers.bouncyCastle()).build(password);
        return converter.getPrivateKey(encrypted.decryptPrivateKeyInfo(decryptor));
      }
      if (object instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      if (object instanceof PEMKeyPair pair) {
        return converter.getKeyPair(pair).getPrivate();
      }
      throw new GeneralSecurityException(file + " holds no private key");
    } catch (PKCSException e) {
      throw new GeneralSecurityException("cannot decrypt " + file
          + ": the password is wrong or the file is damaged", e);
    } catch (OperatorCreationException | PEMException e) {
      throw new GeneralSecurityException("cannot read the key in " + file + ": "
          + e.getMessage(), e);
    }
  }

  /**
   * Reads the first PEM object. The parser reads from a string, so its IOExceptions and
   * runtime exceptions all mean malformed text: a missing END line, bad base64 or bad DER.
   */
  private static Object readPem(PEMParser parser, Path file) throws GeneralSecurityException {
    try {
      return parser.readObject();
    } catch (PEMException e) {
      throw new GeneralSecurityException("cannot read the key in " + file + ": "
          + e.getMessage(), e);
    } catch (IOException | RuntimeException e) {
      throw new GeneralSecurityException(file + " is not a valid PEM private key file: "
          + e.getMessage() + "; restore it from a backup or create the key again", e);
    }
  }
}
