package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.aws.AwsCertificates;
import io.iidca.ca.aws.AwsDocumentVerifier;
import io.iidca.ca.aws.AwsSignatureForm;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.IidcaException;
import io.iidca.ca.error.MalformedRequestException;
import io.iidca.ca.pki.Fingerprints;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.provisioner.AwsProvisioner;
import io.iidca.ca.provisioner.AwsToken;
import io.iidca.ca.provisioner.VerifiedIdentity;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsTestSigner;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.interfaces.RSAPrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link AwsToken#parse} and {@link AwsProvisioner#verify} against forged and malformed tokens
 * built around a document that the emulator's test signer really signed. Every attack must end
 * in the exact exception type (401 or 400) with a reason naming the failed check.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AwsProvisionerAttackTest {

  static final String ACCOUNT = "123456789042";
  static final String AUDIENCE = "https://ca.local/1.0/sign#aws/aws";
  static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);

  AwsTestSigner signer;
  AwsInstance instance;
  AwsProvisioner provisioner;
  byte[] signature;

  @BeforeAll
  void createProvisioner() {
    signer = AwsTestSigner.generate();
    instance = AwsInstance.random(ACCOUNT, "us-east-1");
    signature = signer.signRsa2048(instance.document());
    AwsCertificates certificates = AwsCertificates.published()
        .withAdditional(signer.certificates());
    provisioner = new AwsProvisioner(ProvisionerConfig.aws("aws", List.of(ACCOUNT)),
        new AwsDocumentVerifier(certificates,
            EnumSet.of(AwsSignatureForm.RSA2048, AwsSignatureForm.SIGNATURE)),
        List.of("ca.local"));
  }

  /** A token as the client builds it, with each part replaceable. */
  final class Token {
    JWSHeader header = new JWSHeader(JWSAlgorithm.HS256);
    JWSSigner macSigner;
    final Map<String, Object> claims = new LinkedHashMap<>();
    final Map<String, Object> amazon = new LinkedHashMap<>();

    Token() {
      claims.put("iss", "ec2.amazonaws.com");
      claims.put("sub", "app.internal");
      claims.put("aud", AUDIENCE);
      claims.put("iat", NOW.getEpochSecond());
      claims.put("nbf", NOW.getEpochSecond());
      claims.put("exp", NOW.plus(Duration.ofMinutes(5)).getEpochSecond());
      claims.put("jti", "token-1");
      amazon.put("document", base64(instance.document()));
      amazon.put("rsa2048", base64(signature));
      claims.put("amazon", amazon);
    }

    String serialize() throws Exception {
      SignedJWT jwt = new SignedJWT(header, JWTClaimsSet.parse(claims));
      jwt.sign(macSigner != null ? macSigner : new MACSigner(signature));
      return jwt.serialize();
    }
  }

  VerifiedIdentity verify(Token token) throws Exception {
    return provisioner.verify(AwsToken.parse(SignedJWT.parse(token.serialize())), NOW);
  }

  @Test
  void validTokenVerifies() throws Exception {
    Token token = new Token();
    token.claims.put("sans", List.of("api.internal"));

    VerifiedIdentity identity = verify(token);

    assertThat(identity.instanceId()).isEqualTo(instance.instanceId());
    assertThat(identity.account()).isEqualTo(ACCOUNT);
    assertThat(identity.region()).isEqualTo("us-east-1");
    assertThat(identity.subject()).isEqualTo("app.internal");
    assertThat(identity.tokenSans()).containsExactly("api.internal");
    assertThat(identity.tokenId()).isEqualTo("token-1@" + instance.instanceId());
    assertThat(identity.vouchedNames()).containsExactly(instance.localHostname(),
        instance.privateIp());
  }

  @Test
  void signatureFormVerifies() throws Exception {
    Token token = new Token();
    byte[] raw = signer.signSignature(instance.document());
    token.amazon.remove("rsa2048");
    token.amazon.put("signature", base64(raw));
    token.macSigner = new MACSigner(raw);

    assertThat(verify(token).instanceId()).isEqualTo(instance.instanceId());
  }

  /** Returns rows of the attack, how the token is changed, the exception type, the reason. */
  Stream<Arguments> attacks() throws Exception {
    byte[] otherKey = new byte[256];
    new SecureRandom().nextBytes(otherKey);
    return Stream.of(
        rejected("HS384 header", t -> t.header = new JWSHeader(JWSAlgorithm.HS384),
            "token alg HS384 is not accepted: AWS tokens use HS256"),
        rejected("HS512 header", t -> t.header = new JWSHeader(JWSAlgorithm.HS512),
            "token alg HS512 is not accepted: AWS tokens use HS256"),
        rejected("RS256 with a key of the attacker", t -> {
          t.header = new JWSHeader(JWSAlgorithm.RS256);
          t.macSigner = new RSASSASigner((RSAPrivateKey) KeySpec.of("RSA", null, 2048)
              .generate().getPrivate());
        }, "token alg RS256 is not accepted: AWS tokens use HS256"),
        rejected("MAC keyed with another value", t -> t.macSigner = mac(otherKey),
            "token MAC does not verify with the key of amazon.rsa2048"),
        rejected("MAC keyed with the document", t -> t.macSigner = mac(instance.document()),
            "token MAC does not verify with the key of amazon.rsa2048"),
        rejected("MAC keyed with the base64 text of the signature",
            t -> t.macSigner = mac(base64(signature).getBytes(StandardCharsets.US_ASCII)),
            "token MAC does not verify with the key of amazon.rsa2048"),
        rejected("critical header the CA does not understand", t -> t.header =
            new JWSHeader.Builder(JWSAlgorithm.HS256).criticalParams(Set.of("exp")).build(),
            "token MAC does not verify"),
        rejected("iss of another issuer", t -> t.claims.put("iss", "evil.example"),
            "token iss evil.example is not ec2.amazonaws.com"),
        rejected("sub missing", t -> t.claims.remove("sub"), "token has no sub"),
        rejected("sub blank", t -> t.claims.put("sub", " "), "token has no sub"),
        rejected("aud missing", t -> t.claims.remove("aud"), "token aud [] does not name"),
        rejected("aud of another provisioner", t -> t.claims.put("aud",
            "https://ca.local/1.0/sign#aws/other"), "does not name this CA's sign URL"),
        rejected("aud of another CA", t -> t.claims.put("aud",
            "https://evil.example/1.0/sign#aws/aws"), "does not name this CA's sign URL"),
        rejected("aud over http", t -> t.claims.put("aud", "http://ca.local/1.0/sign#aws/aws"),
            "does not name this CA's sign URL"),
        rejected("aud with a stray percent", t -> t.claims.put("aud",
            "https://ca.local/1.0/sign#aws/%zz"), "does not name this CA's sign URL"),
        rejected("exp missing", t -> t.claims.remove("exp"), "token has no exp"),
        rejected("exp in the past", t -> t.claims.put("exp", NOW.minusSeconds(61)
            .getEpochSecond()), "token expired at"),
        rejected("exp too far ahead", t -> t.claims.put("exp", NOW.plus(Duration.ofMinutes(7))
            .getEpochSecond()), "is more than 5m ahead of"),
        rejected("nbf in the future", t -> t.claims.put("nbf", NOW.plusSeconds(61)
            .getEpochSecond()), "token nbf or iat"),
        rejected("iat in the future", t -> t.claims.put("iat", NOW.plusSeconds(61)
            .getEpochSecond()), "token nbf or iat"),
        rejected("jti missing", t -> t.claims.remove("jti"), "token has no jti"),
        rejected("jti blank", t -> t.claims.put("jti", ""), "token has no jti"),
        rejected("jti of 256 characters", t -> t.claims.put("jti", "j".repeat(256)),
            "token jti of 256 characters exceeds the limit of 255; send a shorter jti, such as"
                + " 32 hex digits"),
        rejected("sans not a list", t -> t.claims.put("sans", "api.internal"),
            "token sans claim is not a list of strings"),
        rejected("document of another instance", t -> t.amazon.put("document",
            base64(AwsInstance.random(ACCOUNT, "us-east-1").document())),
            "the PKCS#7 embeds a document that differs from the one presented"),
        rejected("signature of another instance", t -> {
          byte[] other = signer.signRsa2048(AwsInstance.random(ACCOUNT, "us-east-1")
              .document());
          t.amazon.put("rsa2048", base64(other));
          t.macSigner = mac(other);
        }, "the PKCS#7 embeds a document that differs from the one presented"),
        malformed("both rsa2048 and signature", t -> t.amazon.put("signature",
            base64(signer.signSignature(instance.document()))),
            "token carries both amazon.rsa2048 and amazon.signature: send exactly one"
                + " signature"),
        malformed("no signature", t -> t.amazon.remove("rsa2048"),
            "token has none of amazon.rsa2048, amazon.signature, amazon.pkcs7"),
        malformed("no amazon claim", t -> t.claims.remove("amazon"),
            "token has no amazon.document claim"),
        malformed("amazon is a string", t -> t.claims.put("amazon", "x"),
            "token claims are not valid JSON"),
        malformed("document is a number", t -> t.amazon.put("document", 5),
            "token has no amazon.document claim"),
        malformed("document not base64", t -> t.amazon.put("document", "@@@@ not base64 @@@@"),
            "amazon.document is not base64"),
        malformed("document of symbols only", t -> t.amazon.put("document", "@@@@"),
            "amazon.document is not base64"),
        malformed("signature not base64", t -> t.amazon.put("rsa2048", "@@@@"),
            "amazon.rsa2048 is not base64"),
        malformed("document with a space in its base64", t -> t.amazon.put("document",
            base64(instance.document()).substring(0, 8) + " "
                + base64(instance.document()).substring(8)), "amazon.document is not base64"),
        malformed("document in URL-safe base64", t -> t.amazon.put("document",
            "-_-_" + base64(instance.document()).substring(4)),
            "amazon.document is not base64"));
  }

  /** An attack that must end in {@link IdentityRejectedException} (401). */
  static Arguments rejected(String name, TokenChange change, String reason) {
    return Arguments.of(name, change, IdentityRejectedException.class, reason);
  }

  /** An attack that must end in {@link MalformedRequestException} (400). */
  static Arguments malformed(String name, TokenChange change, String reason) {
    return Arguments.of(name, change, MalformedRequestException.class, reason);
  }

  /** A change to a valid token, which may throw while it builds keys or signatures. */
  interface TokenChange {
    void apply(Token token) throws Exception;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("attacks")
  void attackIsRejectedWithReason(String name, TokenChange change,
      Class<? extends IidcaException> expected, String reason) throws Exception {
    Token token = new Token();
    change.apply(token);
    String serialized = token.serialize();

    Throwable error = catchThrowable(() -> provisioner.verify(
        AwsToken.parse(SignedJWT.parse(serialized)), NOW));

    assertThat(error).as(name).isExactlyInstanceOf(expected);
    IidcaException failure = (IidcaException) error;
    assertThat(failure.stage()).isEqualTo("verify-aws");
    assertThat(failure.reason()).contains(reason);
  }

  @Test
  void jtiOf255CharactersVerifies() throws Exception {
    Token token = new Token();
    token.claims.put("jti", "j".repeat(255));

    // Too long to record beside the instance id, so both are hashed together.
    assertThat(verify(token).tokenId()).isEqualTo("jti-sha256:" + Fingerprints.sha256Hex(
        (instance.instanceId() + "\n" + "j".repeat(255)).getBytes(StandardCharsets.UTF_8)));
  }

  /** The metadata service writes base64 in lines; line breaks are not base64 errors. */
  @Test
  void base64WithLineBreaksVerifies() throws Exception {
    Token token = new Token();
    token.amazon.put("document", Base64.getMimeEncoder().encodeToString(instance.document()));
    byte[] lineFeed = "\n".getBytes(StandardCharsets.US_ASCII);
    token.amazon.put("rsa2048", Base64.getMimeEncoder(64, lineFeed).encodeToString(signature));

    assertThat(verify(token).instanceId()).isEqualTo(instance.instanceId());
  }

  @Test
  void tokenWithinLeewayVerifies() throws Exception {
    Token token = new Token();
    token.claims.put("nbf", NOW.plusSeconds(60).getEpochSecond());
    token.claims.put("exp", NOW.minusSeconds(60).getEpochSecond());

    assertThat(verify(token).tokenId()).isEqualTo("token-1@" + instance.instanceId());
  }

  @Test
  void accountOutsideProvisionerIsRejected() throws Exception {
    AwsInstance stranger = AwsInstance.random("111122223333", "us-east-1");
    byte[] strangerSignature = signer.signRsa2048(stranger.document());
    Token token = new Token();
    token.amazon.put("document", base64(stranger.document()));
    token.amazon.put("rsa2048", base64(strangerSignature));
    token.macSigner = new MACSigner(strangerSignature);

    Throwable error = catchThrowable(() -> verify(token));

    assertThat(error).isExactlyInstanceOf(IdentityRejectedException.class)
        .hasMessage("verify-aws: accountId 111122223333 is not in the allowed accounts ["
            + ACCOUNT + "]");
  }

  static MACSigner mac(byte[] key) {
    try {
      return new MACSigner(key);
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  static String base64(byte[] bytes) {
    return Base64.getEncoder().encodeToString(bytes);
  }
}
