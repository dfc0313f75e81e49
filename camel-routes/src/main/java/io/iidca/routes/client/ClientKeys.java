package io.iidca.routes.client;

import io.iidca.ca.pki.KeyFiles;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;

/**
 * Reads the private key of a client's certificate files. The key that {@code iidca
 * certificate} writes, an unencrypted PKCS#8 {@code PRIVATE KEY} block (RFC 5208, RFC 5958),
 * is read with the installed JCA providers (SunEC or SunRsaSign in the client), so that a cold
 * client does not register Bouncy Castle's provider for it. Any other file, such as an
 * encrypted key, a SEC1 {@code EC PRIVATE KEY} or a PKCS#1 RSA key, goes through
 * {@link KeyFiles#read}, which reads those with Bouncy Castle.
 */
final class ClientKeys {

  private ClientKeys() {}

  /**
   * Reads an unencrypted private key.
   *
   * @throws IOException if the file cannot be read
   * @throws GeneralSecurityException naming the file if it contains no readable private key
   */
  static PrivateKey read(Path file) throws IOException, GeneralSecurityException {
    String text = Files.readString(file, StandardCharsets.US_ASCII);
    PemObject block;
    try (PemReader reader = new PemReader(new StringReader(text))) {
      block = reader.readPemObject();
    } catch (IOException | RuntimeException e) {
      // Malformed PEM: KeyFiles reports it with its own message.
      block = null;
    }
    String algorithm = block == null || !block.getType().equals("PRIVATE KEY") ? null
        : keyFactoryAlgorithm(block.getContent());
    if (algorithm == null) {
      return KeyFiles.read(file, null);
    }
    return KeyFactory.getInstance(algorithm)
        .generatePrivate(new PKCS8EncodedKeySpec(block.getContent()));
  }

  /** Returns the JCA key factory for a PKCS#8 key's algorithm, or null for another one. */
  private static String keyFactoryAlgorithm(byte[] der) {
    ASN1ObjectIdentifier oid;
    try {
      oid = PrivateKeyInfo.getInstance(der).getPrivateKeyAlgorithm().getAlgorithm();
    } catch (RuntimeException e) {
      // Malformed DER: KeyFiles reports it with its own message.
      return null;
    }
    if (oid.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
      return "EC";
    }
    if (oid.equals(PKCSObjectIdentifiers.rsaEncryption)) {
      return "RSA";
    }
    if (oid.equals(EdECObjectIdentifiers.id_Ed25519)) {
      return "Ed25519";
    }
    return null;
  }
}
