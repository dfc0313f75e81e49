package io.iidca.routes.server;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.aws.AwsSignatureForm;
import io.iidca.ca.pki.CaCertificates;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.pki.SubjectNames;
import io.iidca.routes.client.CsrBuilder;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsTestSigner;
import java.security.KeyPair;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * Builds sign requests as a client on an emulated AWS instance would, with a knob for each way
 * a request can be wrong. Defaults build a request the CA accepts.
 */
final class SignRequestBuilder {

  private final AwsTestSigner signer;
  private final AwsInstance instance;
  private String audience;
  private String subject = "app.internal";
  private String csrSubject;
  private List<String> sans = List.of();
  private Instant expiry = Instant.now().plus(5, ChronoUnit.MINUTES);
  private boolean withExpiry = true;
  private String jti = UUID.randomUUID().toString();
  private AwsSignatureForm form = AwsSignatureForm.RSA2048;
  private UnaryOperator<byte[]> documentInToken = UnaryOperator.identity();
  private byte[] signedDocument;
  private boolean csrRequestsCa;
  private boolean corruptCsrSignature;
  private KeySpec keySpec = KeySpec.EC_P256;
  private KeyPair givenKeys;
  private KeyPair keys;

  SignRequestBuilder(AwsTestSigner signer, AwsInstance instance, String caUrl,
      String provisioner) {
    this.signer = signer;
    this.instance = instance;
    this.audience = caUrl + "/1.0/sign#aws/" + provisioner;
  }

  SignRequestBuilder audience(String value) {
    audience = value;
    return this;
  }

  SignRequestBuilder subject(String value) {
    subject = value;
    return this;
  }

  /** A common name for the CSR that differs from the token's subject. */
  SignRequestBuilder csrSubject(String value) {
    csrSubject = value;
    return this;
  }

  SignRequestBuilder sans(List<String> value) {
    sans = value;
    return this;
  }

  SignRequestBuilder expiry(Instant value) {
    expiry = value;
    return this;
  }

  SignRequestBuilder withoutExpiry() {
    withExpiry = false;
    return this;
  }

  SignRequestBuilder jti(String value) {
    jti = value;
    return this;
  }

  SignRequestBuilder form(AwsSignatureForm value) {
    form = value;
    return this;
  }

  /** Changes the document after it was signed, as an attacker editing it would. */
  SignRequestBuilder alterDocument(UnaryOperator<byte[]> change) {
    documentInToken = change;
    return this;
  }

  /** Signs this other document instead of the instance's own, then sends the instance's. */
  SignRequestBuilder signatureOf(byte[] otherDocument) {
    signedDocument = otherDocument;
    return this;
  }

  SignRequestBuilder csrRequestsCa() {
    csrRequestsCa = true;
    return this;
  }

  SignRequestBuilder corruptCsrSignature() {
    corruptCsrSignature = true;
    return this;
  }

  SignRequestBuilder keySpec(KeySpec value) {
    keySpec = value;
    return this;
  }

  /** Builds the CSR with this key pair instead of a new one. */
  SignRequestBuilder keys(KeyPair value) {
    givenKeys = value;
    return this;
  }

  /** Returns the JSON body: {@code csr} and {@code ott}. */
  Map<String, Object> body() {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("csr", csr());
    body.put("ott", token());
    return body;
  }

  String token() {
    byte[] document = instance.document();
    byte[] toSign = signedDocument == null ? document : signedDocument;
    byte[] signature = switch (form) {
      case RSA2048 -> signer.signRsa2048(toSign);
      case SIGNATURE -> signer.signSignature(toSign);
      case PKCS7 -> signer.signPkcs7(toSign);
    };
    Map<String, Object> amazon = new HashMap<>();
    amazon.put("document", Base64.getEncoder().encodeToString(documentInToken.apply(document)));
    amazon.put(form.path(), Base64.getEncoder().encodeToString(signature));
    JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
        .issuer("ec2.amazonaws.com")
        .subject(subject)
        .audience(audience)
        .issueTime(new Date())
        .notBeforeTime(new Date())
        .jwtID(jti)
        .claim("amazon", amazon);
    if (withExpiry) {
      claims.expirationTime(Date.from(expiry));
    }
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims.build());
    try {
      jwt.sign(new MACSigner(signature));
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jwt.serialize();
  }

  /** The key pair of the last CSR built. */
  KeyPair keys() {
    return keys;
  }

  String csr() {
    keys = givenKeys != null ? givenKeys : keySpec.generate();
    String commonName = csrSubject == null ? subject : csrSubject;
    if (!csrRequestsCa && !corruptCsrSignature) {
      return CsrBuilder.build(keys, commonName, sans);
    }
    try {
      var builder = new JcaPKCS10CertificationRequestBuilder(
          new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build(),
          keys.getPublic());
      ExtensionsGenerator extensions = new ExtensionsGenerator();
      if (csrRequestsCa) {
        extensions.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      }
      if (!sans.isEmpty()) {
        extensions.addExtension(Extension.subjectAlternativeName, false,
            SubjectNames.toGeneralNames(sans));
      }
      if (!extensions.isEmpty()) {
        builder.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest,
            extensions.generate());
      }
      byte[] der = builder.build(CaCertificates.signer(keys.getPrivate())).getEncoded();
      if (corruptCsrSignature) {
        der[der.length - 5] ^= 0x01;
      }
      return Pem.encode(new org.bouncycastle.pkcs.PKCS10CertificationRequest(der));
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
