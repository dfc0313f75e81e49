package io.iidca.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.testkit.aws.AwsTestSigner;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;
import org.bouncycastle.util.io.pem.PemReader;

/**
 * Times, in one JVM, the operations that the profile of {@code iidca serve} shows on every sign
 * request, with the libraries iidca uses: ECDSA P-256 sign and verify per JCA provider, parsing
 * the token with Nimbus beside decoding its payload with {@code java.util.Base64}, PEM encoding
 * a certificate, and checking a CSR's signature with Bouncy Castle.
 *
 * <p>Each figure is the lowest batch mean of one thread's calls (see {@link #time}). On a shared
 * machine, compare figures of one run with each other only. Usage: {@code
 * OperationCosts [PROVIDER_CLASS...]}, where each class has a public static {@code INSTANCE}
 * field or a public no-argument constructor, such as a native provider on the class path.
 */
public final class OperationCosts {

  private static final int WARMUP_CALLS = 2000;
  private static final int BATCHES = 9;
  private static final int BATCH = 300;
  private static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();

  private OperationCosts() {}

  public static void main(String[] args) throws Exception {
    List<Provider> providers = new ArrayList<>();
    providers.add(BOUNCY_CASTLE);
    providers.add(Security.getProvider("SunEC"));
    for (String name : args) {
      providers.add(load(name));
    }
    for (Provider provider : providers) {
      ecdsa(provider);
    }
    for (Provider provider : providers.subList(2, providers.size())) {
      rsaKeyForms(provider);
    }
    AwsTestSigner signer = AwsTestSigner.generate();
    byte[] request = new SignRequests(signer, "bench-aws", "123456789042", "us-east-1",
        "app.internal").iidca(URI.create("https://127.0.0.1:8443"), 1).get(0);
    String text = new String(request, StandardCharsets.US_ASCII);
    JsonNode body = new ObjectMapper().readTree(text.substring(text.indexOf("\r\n\r\n") + 4));
    token(body.get("ott").asText());
    csr(body.get("csr").asText());
    X509Certificate certificate = signer.rsaCertificate();
    report("PEM encoding of a certificate (JcaPEMWriter, as iidca's Pem.encode)",
        time(() -> pem(certificate)));
  }

  private static void ecdsa(Provider provider) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", provider);
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair keys = generator.generateKeyPair();
    byte[] data = new byte[512];
    byte[] signature = sign(provider, keys, data);
    report("ECDSA P-256 sign, " + provider.getName(), time(() -> sign(provider, keys, data)));
    report("ECDSA P-256 verify, " + provider.getName(), time(() -> {
      if (!verify(provider, keys, data, signature)) {
        throw new IllegalStateException("the signature does not verify");
      }
    }));
  }

  /**
   * Times an RSA-2048 check, as of an identity document's signature, with the JDK's public key
   * and with the same key converted once to the provider's own type.
   */
  private static void rsaKeyForms(Provider provider) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    KeyPair keys = generator.generateKeyPair();
    byte[] data = new byte[512];
    Signature signer = Signature.getInstance("SHA256withRSA");
    signer.initSign(keys.getPrivate());
    signer.update(data);
    byte[] signature = signer.sign();
    PublicKey converted = KeyFactory.getInstance("RSA", provider)
        .generatePublic(new X509EncodedKeySpec(keys.getPublic().getEncoded()));
    for (PublicKey key : List.of(keys.getPublic(), converted)) {
      report("RSA-2048 verify, " + provider.getName() + ", "
          + (key == converted ? "its own key type" : "the JDK's key"), time(() -> {
            Signature verifier = Signature.getInstance("SHA256withRSA", provider);
            verifier.initVerify(key);
            verifier.update(data);
            if (!verifier.verify(signature)) {
              throw new IllegalStateException("the signature does not verify");
            }
          }));
    }
  }

  private static void token(String token) {
    report("token parse and claims (Nimbus SignedJWT, " + token.length() + " characters)",
        time(() -> SignedJWT.parse(token).getJWTClaimsSet()));
    String payload = token.substring(token.indexOf('.') + 1, token.lastIndexOf('.'));
    report("token payload decode (java.util.Base64 URL decoder)",
        time(() -> Base64.getUrlDecoder().decode(payload)));
  }

  private static void csr(String pem) {
    report("CSR parse and signature check (Bouncy Castle)", time(() -> {
      try (PemReader reader = new PemReader(new java.io.StringReader(pem))) {
        JcaPKCS10CertificationRequest csr =
            new JcaPKCS10CertificationRequest(reader.readPemObject().getContent());
        boolean valid = csr.isSignatureValid(new JcaContentVerifierProviderBuilder()
            .setProvider(BOUNCY_CASTLE).build(csr.getPublicKey()));
        if (!valid) {
          throw new IllegalStateException("the CSR signature does not verify");
        }
      }
    }));
  }

  private static byte[] sign(Provider provider, KeyPair keys, byte[] data) throws Exception {
    Signature signer = Signature.getInstance("SHA256withECDSA", provider);
    signer.initSign(keys.getPrivate());
    signer.update(data);
    return signer.sign();
  }

  private static boolean verify(Provider provider, KeyPair keys, byte[] data, byte[] signature)
      throws Exception {
    Signature verifier = Signature.getInstance("SHA256withECDSA", provider);
    verifier.initVerify(keys.getPublic());
    verifier.update(data);
    return verifier.verify(signature);
  }

  private static String pem(Object object) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  /** An operation that may throw, timed by {@link #time}. */
  private interface Operation {
    void run() throws Exception;
  }

  /**
   * Returns the time of one call in microseconds: the lowest mean of {@value #BATCHES} batches
   * of {@value #BATCH} calls, after {@value #WARMUP_CALLS} warm-up calls. The lowest batch is
   * the one that other processes on a shared machine disturbed least.
   */
  private static double time(Operation operation) {
    try {
      for (int i = 0; i < WARMUP_CALLS; i++) {
        operation.run();
      }
      double best = Double.MAX_VALUE;
      for (int batch = 0; batch < BATCHES; batch++) {
        long start = System.nanoTime();
        for (int i = 0; i < BATCH; i++) {
          operation.run();
        }
        best = Math.min(best, (System.nanoTime() - start) / 1e3 / BATCH);
      }
      return best;
    } catch (Exception e) {
      throw new IllegalStateException("timed operation failed: " + e, e);
    }
  }

  private static void report(String operation, double micros) {
    System.out.printf(Locale.ROOT, "%-72s %8.1f us%n", operation, micros);
  }

  private static Provider load(String className) throws ReflectiveOperationException {
    Class<?> type = Class.forName(className);
    try {
      return (Provider) type.getField("INSTANCE").get(null);
    } catch (NoSuchFieldException e) {
      return (Provider) type.getConstructor().newInstance();
    }
  }
}
