package io.iidca.ca.aws;

import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.MalformedRequestException;
import io.iidca.ca.pki.Providers;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Verifies an EC2 instance identity document against its signature in one of the forms that
 * the instance metadata service serves (AWS EC2 User Guide, "Verify the instance identity
 * document"), with the candidate certificates that {@link AwsCertificates} selects by the
 * document's region.
 *
 * <p>What is checked: the form is enabled, and the document parses ({@link
 * AwsIdentityDocument}). For the PKCS#7 forms, the structure and the algorithms allowed for the
 * form are checked, embedded content must equal the document byte for byte, and the signed
 * attributes (content type, message digest) must match. Finally the signature value must verify
 * with the key of at least one candidate whose validity period contains the verification time.
 * Several candidates may share one key, and each distinct key is tried once.
 *
 * <p>What is not checked: certificates carried inside a PKCS#7 (never trusted), chains to a root
 * (AWS certificates are self-signed trust anchors), revocation, and the document's content
 * beyond its shape (account, age and replay are policy decisions for the caller).
 *
 * <p>Failures of the signature throw {@link IdentityRejectedException} with stage
 * {@code verify-aws} and a reason naming the form, the region and each candidate by serial; no
 * message contains signature or document bytes. A document that does not parse, or a call that
 * lacks the document, throws {@link MalformedRequestException}. Instances are immutable and
 * thread-safe.
 */
public final class AwsDocumentVerifier {

  static final String STAGE = AwsIdentityDocument.STAGE;

  private static final int MIN_RSA_BITS = 1024;
  private static final int MIN_RSA2048_BITS = 2048;
  private static final String SIGNATURE_ALGORITHM = "SHA256withRSA";
  /**
   * The candidates' keys in ACCP's own form, by their X.509 encoding, so that ACCP does not
   * convert a key at each check. AWS publishes a few certificates per region, and the cache
   * stops growing at {@link #MAX_NATIVE_KEYS}.
   */
  private static final Map<ByteBuffer, PublicKey> NATIVE_KEYS = new ConcurrentHashMap<>();
  private static final int MAX_NATIVE_KEYS = 1024;

  private final AwsCertificates certificates;
  private final Set<AwsSignatureForm> allowedForms;

  /**
   * Creates a verifier that accepts only the signature forms in {@code allowedForms}.
   *
   * @throws IllegalArgumentException if {@code allowedForms} is empty
   */
  public AwsDocumentVerifier(AwsCertificates certificates, Set<AwsSignatureForm> allowedForms) {
    this.certificates = Objects.requireNonNull(certificates, "certificates");
    Objects.requireNonNull(allowedForms, "allowedForms");
    if (allowedForms.isEmpty()) {
      throw new IllegalArgumentException("allowedForms is empty: enable at least one of "
          + Arrays.toString(AwsSignatureForm.values()));
    }
    this.allowedForms = Collections.unmodifiableSet(EnumSet.copyOf(allowedForms));
  }

  /**
   * Verifies and returns the parsed document; document is the exact bytes of /document. For
   * RSA2048 and PKCS7 the signature argument is the DER (or the base64 text AWS serves, with or
   * without PEM armour — all three are accepted) PKCS#7; for SIGNATURE the base64 text or raw
   * bytes. A PKCS#7 with embedded content must embed exactly {@code document}; a detached one is
   * verified over {@code document}.
   *
   * @param at the time at which each candidate certificate must be valid, usually now
   * @throws IdentityRejectedException if the form is not enabled or the signature does not
   *     verify
   * @throws MalformedRequestException if the document does not parse
   */
  public AwsIdentityDocument verify(byte[] document, AwsSignatureForm form, byte[] signature,
      Instant at) {
    Objects.requireNonNull(document, "document");
    Objects.requireNonNull(form, "form");
    Objects.requireNonNull(signature, "signature");
    Objects.requireNonNull(at, "at");
    requireEnabled(form);
    AwsIdentityDocument parsed = AwsIdentityDocument.parse(document);
    verifySignedBytes(document, parsed.region(), form, signature, at);
    return parsed;
  }

  /**
   * The same, for a PKCS#7 with embedded content where the caller has no separate document:
   * returns the verified embedded document.
   *
   * @throws IdentityRejectedException if the form is not enabled or the signature does not
   *     verify
   * @throws MalformedRequestException if the form is SIGNATURE, the PKCS#7 is detached, or the
   *     embedded document does not parse
   */
  public AwsIdentityDocument verifyEmbedded(AwsSignatureForm form, byte[] pkcs7, Instant at) {
    Objects.requireNonNull(form, "form");
    Objects.requireNonNull(pkcs7, "pkcs7");
    Objects.requireNonNull(at, "at");
    requireEnabled(form);
    if (form == AwsSignatureForm.SIGNATURE) {
      throw new MalformedRequestException(STAGE, "form signature carries no document: pass the"
          + " document and the signature together");
    }
    CmsSignature cms = decodeCms(form, null, pkcs7);
    byte[] content = cms.embeddedContent();
    if (content == null) {
      throw new MalformedRequestException(STAGE, "the " + form + " PKCS#7 is detached and"
          + " carries no document: pass the document and the PKCS#7 together");
    }
    AwsIdentityDocument parsed = AwsIdentityDocument.parse(content);
    Attempt attempt = candidates(parsed.region(), form, at);
    verifyCms(cms, content, attempt);
    return parsed;
  }

  /** Returns the signature forms that this verifier accepts. */
  public Set<AwsSignatureForm> allowedForms() {
    return allowedForms;
  }

  /**
   * Verifies a signature over {@code document} with the candidates for {@code region}, without
   * parsing the document. Package-private so that tests can check the signature of a document
   * that does not parse.
   */
  void verifySignedBytes(byte[] document, String region, AwsSignatureForm form, byte[] signature,
      Instant at) {
    Attempt attempt = candidates(region, form, at);
    if (form == AwsSignatureForm.SIGNATURE) {
      byte[] value;
      try {
        value = SignatureEncoding.raw(signature);
      } catch (InvalidSignatureException e) {
        throw attempt.reject(e.getMessage(), e);
      }
      verifyWithCandidates(attempt, AwsDocumentVerifier::rsaSha256, document, value);
      return;
    }
    CmsSignature cms = decodeCms(form, attempt, signature);
    byte[] embedded = cms.embeddedContent();
    if (embedded != null && !Arrays.equals(embedded, document)) {
      throw attempt.reject("the PKCS#7 embeds a document that differs from the one presented ("
          + embedded.length + " bytes embedded, " + document.length + " bytes presented)", null);
    }
    verifyCms(cms, document, attempt);
  }

  private void requireEnabled(AwsSignatureForm form) {
    if (!allowedForms.contains(form)) {
      throw new IdentityRejectedException(STAGE, "form " + form
          + " is not enabled for this provisioner (enabled: " + allowedForms + ")");
    }
  }

  private Attempt candidates(String region, AwsSignatureForm form, Instant at) {
    Attempt attempt = new Attempt(form, region, at, certificates.candidates(region, form));
    if (attempt.isEmpty()) {
      throw attempt.reject("no " + form + " certificate is known for region " + region
          + "; add the region's AWS certificate to the provisioner", null);
    }
    if (attempt.valid().isEmpty()) {
      throw attempt.reject("no candidate certificate is valid at " + at, null);
    }
    return attempt;
  }

  /** Decodes a PKCS#7; {@code attempt} is null when the region is not known yet. */
  private static CmsSignature decodeCms(AwsSignatureForm form, Attempt attempt,
      byte[] signature) {
    try {
      return CmsSignature.parse(SignatureEncoding.pkcs7(signature));
    } catch (InvalidSignatureException e) {
      if (attempt != null) {
        throw attempt.reject(e.getMessage(), e);
      }
      throw new IdentityRejectedException(STAGE, form + " signature rejected before its region"
          + " was read: " + e.getMessage(), e);
    }
  }

  private static void verifyCms(CmsSignature cms, byte[] content, Attempt attempt) {
    byte[] signed;
    try {
      cms.checkAlgorithms(attempt.form());
      signed = cms.signedBytes(content);
    } catch (InvalidSignatureException e) {
      throw attempt.reject(e.getMessage(), e);
    }
    verifyWithCandidates(attempt, key -> cms.jcaAlgorithm(key.getAlgorithm()), signed,
        cms.signatureValue());
  }

  /**
   * Verifies {@code value} over {@code signed} with each valid candidate's key until one
   * verifies. Candidates that share a key share one verification.
   */
  private static void verifyWithCandidates(Attempt attempt,
      Function<PublicKey, String> algorithmForKey, byte[] signed, byte[] value) {
    Map<ByteBuffer, Boolean> resultByKey = new HashMap<>();
    for (X509Certificate candidate : attempt.valid()) {
      PublicKey key = candidate.getPublicKey();
      String algorithm = algorithmForKey.apply(key);
      String unsuitable = unsuitableKey(attempt.form(), key, algorithm);
      if (unsuitable != null) {
        attempt.record(candidate, unsuitable);
        continue;
      }
      boolean verified = resultByKey.computeIfAbsent(ByteBuffer.wrap(key.getEncoded()),
          encoded -> verifySignature(algorithm, nativeKey(encoded, key), signed, value));
      if (verified) {
        return;
      }
      attempt.record(candidate, "signature does not verify");
    }
    throw attempt.reject("the signature does not verify with any candidate", null);
  }

  private static PublicKey nativeKey(ByteBuffer encoded, PublicKey key) {
    PublicKey known = NATIVE_KEYS.get(encoded);
    if (known != null) {
      return known;
    }
    PublicKey converted = Providers.nativeKey(key);
    if (NATIVE_KEYS.size() < MAX_NATIVE_KEYS) {
      NATIVE_KEYS.putIfAbsent(encoded, converted);
    }
    return converted;
  }

  /** Returns why a key cannot check this signature, or null when it can. */
  private static String unsuitableKey(AwsSignatureForm form, PublicKey key, String algorithm) {
    if (algorithm == null) {
      return "key type " + key.getAlgorithm() + " does not fit the signature algorithm";
    }
    if (key instanceof RSAPublicKey rsa) {
      int bits = rsa.getModulus().bitLength();
      int minimum = form == AwsSignatureForm.RSA2048 ? MIN_RSA2048_BITS : MIN_RSA_BITS;
      if (bits < minimum) {
        return "RSA-" + bits + " key is shorter than " + minimum + " bits";
      }
    }
    return null;
  }

  private static boolean verifySignature(String algorithm, PublicKey key, byte[] signed,
      byte[] value) {
    try {
      Signature verifier = Providers.signature(algorithm);
      verifier.initVerify(key);
      verifier.update(signed);
      return verifier.verify(value);
    } catch (InvalidKeyException | SignatureException e) {
      // A value of the wrong length or encoding is a failed verification, not an error.
      return false;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("neither ACCP nor Bouncy Castle provides " + algorithm, e);
    }
  }

  /** Returns the algorithm of the bare {@code signature} form for RSA keys, else null. */
  private static String rsaSha256(PublicKey key) {
    return key.getAlgorithm().equals("RSA") ? SIGNATURE_ALGORITHM : null;
  }
}
