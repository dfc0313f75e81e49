package io.iidca.testkit.azure;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.pki.Pem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/**
 * The test keys of an {@link AzureMetadataEmulator}, generated in memory at start: an RSA key
 * that signs managed-identity tokens (published as a JWKS entry with a self-signed {@code x5c}
 * certificate, as Entra publishes its keys), and a test root, intermediate and {@code
 * metadata.azure.com} signer for attested documents, plus a second, untrusted chain with the
 * same names. Keys are RSA 2048 and never leave memory. Immutable and thread-safe.
 */
public final class AzureTestSigner {

  private static final Instant NOT_BEFORE = Instant.now().minus(1, ChronoUnit.DAYS);
  private static final Instant NOT_AFTER = Instant.now().plus(3650, ChronoUnit.DAYS);

  private final KeyPair tokenKey;
  private final X509Certificate tokenCertificate;
  private final String keyId;
  private final Chain trusted;
  private final Chain untrusted;

  /** A root, intermediate and signer with the signer's private key. */
  private record Chain(X509Certificate root, X509Certificate intermediate,
      X509Certificate signer, PrivateKey signerKey) {}

  private AzureTestSigner(String signerName) throws GeneralSecurityException,
      OperatorCreationException, IOException {
    this.tokenKey = rsa();
    this.tokenCertificate = certificate("CN=accounts.accesscontrol.windows.net (iidca test)",
        tokenKey, "CN=accounts.accesscontrol.windows.net (iidca test)", tokenKey.getPrivate(),
        false, null);
    this.keyId = Base64URL.encode(MessageDigest.getInstance("SHA-1")
        .digest(tokenCertificate.getEncoded())).toString();
    this.trusted = chain(signerName, "iidca test");
    this.untrusted = chain(signerName, "iidca untrusted test");
  }

  /** Generates keys whose document signer is named {@code metadata.azure.com}. */
  public static AzureTestSigner generate() {
    return generate("metadata.azure.com");
  }

  /** Generates keys whose document signer has CN and DNS name {@code signerName}. */
  public static AzureTestSigner generate(String signerName) {
    try {
      return new AzureTestSigner(signerName);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException("cannot generate Azure test keys", e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Returns the token key id, which is also its certificate's SHA-1 thumbprint (x5t). */
  public String keyId() {
    return keyId;
  }

  /** Returns the JWKS that publishes the token key. */
  public String jwks() {
    try {
      return new JWKSet(new RSAKey.Builder((RSAPublicKey) tokenKey.getPublic())
          .keyID(keyId)
          .keyUse(com.nimbusds.jose.jwk.KeyUse.SIGNATURE)
          .x509CertThumbprint(new Base64URL(keyId))
          .x509CertChain(List.of(Base64.encode(tokenCertificate.getEncoded())))
          .build()).toString();
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Signs claims with RS256 and the token key, with {@code kid} and {@code x5t} as Entra. */
  public String signToken(JWTClaimsSet claims) {
    return signToken(new JWSHeader.Builder(JWSAlgorithm.RS256).type(
        com.nimbusds.jose.JOSEObjectType.JWT).keyID(keyId)
        .x509CertThumbprint(new Base64URL(keyId)).build(), claims,
        new RSASSASigner(tokenKey.getPrivate()));
  }

  /** Signs claims with any header and signer; tests use it for forged tokens. */
  public static String signToken(JWSHeader header, JWTClaimsSet claims, JWSSigner signer) {
    SignedJWT jwt = new SignedJWT(header, claims);
    try {
      jwt.sign(signer);
    } catch (JOSEException e) {
      throw new IllegalArgumentException("cannot sign token: " + e.getMessage(), e);
    }
    return jwt.serialize();
  }

  /** Returns the token key's public half; tests use it for HS256-with-public-key forgeries. */
  public RSAPublicKey tokenPublicKey() {
    return (RSAPublicKey) tokenKey.getPublic();
  }

  /** Returns the base64 PKCS#7 of {@code json}, signed by the trusted test chain. */
  public String signDocument(String json) {
    return sign(trusted, json);
  }

  /** Returns the base64 PKCS#7 of {@code json}, signed by a chain that no verifier trusts. */
  public String signDocumentUntrusted(String json) {
    return sign(untrusted, json);
  }

  /** Returns the trusted test root and intermediate, in PEM, for {@code azure.roots}. */
  public String rootsPem() {
    return Pem.encode(trusted.root(), trusted.intermediate());
  }

  /** Returns the trusted test root and intermediate. */
  public List<X509Certificate> roots() {
    return List.of(trusted.root(), trusted.intermediate());
  }

  private static String sign(Chain chain, String json) {
    try {
      CMSSignedDataGenerator generator = new CMSSignedDataGenerator();
      generator.addSignerInfoGenerator(new JcaSignerInfoGeneratorBuilder(
          new JcaDigestCalculatorProviderBuilder().build()).setDirectSignature(true)
          .build(new JcaContentSignerBuilder("SHA256withRSA").build(chain.signerKey()),
              chain.signer()));
      generator.addCertificates(new JcaCertStore(List.of(chain.signer())));
      byte[] der = generator.generate(
          new CMSProcessableByteArray(json.getBytes(StandardCharsets.UTF_8)), true)
          .getEncoded("DER");
      return java.util.Base64.getEncoder().encodeToString(der);
    } catch (GeneralSecurityException | OperatorCreationException | CMSException
        | IOException e) {
      throw new IllegalStateException("cannot sign attested document", e);
    }
  }

  private static Chain chain(String signerName, String label) throws GeneralSecurityException,
      OperatorCreationException, IOException {
    KeyPair rootKey = rsa();
    KeyPair intermediateKey = rsa();
    KeyPair signerKey = rsa();
    String rootName = "CN=Azure Test Root (" + label + ")";
    String intermediateName = "CN=Azure Test Issuing CA (" + label + ")";
    X509Certificate root = certificate(rootName, rootKey, rootName, rootKey.getPrivate(), true,
        null);
    X509Certificate intermediate = certificate(intermediateName, intermediateKey, rootName,
        rootKey.getPrivate(), true, null);
    X509Certificate signer = certificate("CN=" + signerName, signerKey, intermediateName,
        intermediateKey.getPrivate(), false, signerName);
    return new Chain(root, intermediate, signer, signerKey.getPrivate());
  }

  private static KeyPair rsa() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    return generator.generateKeyPair();
  }

  private static X509Certificate certificate(String subject, KeyPair key, String issuer,
      PrivateKey issuerKey, boolean ca, String dnsName) throws GeneralSecurityException,
      OperatorCreationException, IOException {
    X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(new X500Name(issuer),
        new BigInteger(64, new SecureRandom()).setBit(63), Date.from(NOT_BEFORE),
        Date.from(NOT_AFTER), new X500Name(subject), key.getPublic());
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(ca
        ? KeyUsage.keyCertSign | KeyUsage.cRLSign : KeyUsage.digitalSignature));
    if (dnsName != null) {
      builder.addExtension(Extension.subjectAlternativeName, false,
          new GeneralNames(new GeneralName(GeneralName.dNSName, dnsName)));
    }
    return new JcaX509CertificateConverter().getCertificate(
        builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(issuerKey)));
  }
}
