package io.iidca.ca.provisioner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link AwsToken#parseSignedJwt}: it reads the same claims, header and signing input as
 * Nimbus's {@link SignedJWT#parse}, including payloads in the standard base64 alphabet.
 */
class AwsTokenParseTest {

  private static final byte[] KEY = "a key of at least 256 bits for HS256"
      .getBytes(StandardCharsets.UTF_8);

  @Test
  void parseMatchesNimbus() throws Exception {
    String compact = token(new JWTClaimsSet.Builder()
        .subject("i-0123456789abcdef0")
        .audience("https://ca.internal/1.0/sign#aws/prod")
        .claim("amazon", Map.of("document", "eyJ9", "rsa2048", "MIIB"))
        .claim("sans", List.of("app.internal", "10.0.0.1"))
        .claim("note", "non-ASCII: \u00e9\u4e2d")
        .build());

    SignedJWT fast = AwsToken.parseSignedJwt(compact);
    SignedJWT nimbus = SignedJWT.parse(compact);

    assertThat(fast.getJWTClaimsSet().toJSONObject())
        .isEqualTo(nimbus.getJWTClaimsSet().toJSONObject());
    assertThat(fast.getHeader().toJSONObject()).isEqualTo(nimbus.getHeader().toJSONObject());
    assertThat(fast.getSigningInput()).isEqualTo(nimbus.getSigningInput());
    assertThat(fast.getSignature()).isEqualTo(nimbus.getSignature());
    assertThat(fast.getJWTClaimsSet()).isSameAs(fast.getJWTClaimsSet());
  }

  @Test
  void standardAlphabetPayloadParsesAsNimbusDoes() throws Exception {
    // '?' and '>' make standard base64 use '/' and '+', which base64url replaces.
    String json = "{\"sub\":\"??>>\"}";
    String payload = Base64.getEncoder().withoutPadding()
        .encodeToString(json.getBytes(StandardCharsets.UTF_8));
    assertThat(payload).containsAnyOf("+", "/");
    String header = Base64.getUrlEncoder().withoutPadding()
        .encodeToString("{\"alg\":\"HS256\"}".getBytes(StandardCharsets.UTF_8));
    String compact = header + "." + payload + ".c2ln";

    assertThat(AwsToken.parseSignedJwt(compact).getJWTClaimsSet().getSubject())
        .isEqualTo(SignedJWT.parse(compact).getJWTClaimsSet().getSubject())
        .isEqualTo("??>>");
  }

  @Test
  void textWithoutThreePartsIsRejected() {
    assertThatThrownBy(() -> AwsToken.parseSignedJwt("a.b"))
        .isInstanceOf(ParseException.class);
    assertThatThrownBy(() -> AwsToken.parseSignedJwt("not a token"))
        .isInstanceOf(ParseException.class);
  }

  @Test
  void payloadThatIsNotJsonIsRejected() throws Exception {
    String header = Base64.getUrlEncoder().withoutPadding()
        .encodeToString("{\"alg\":\"HS256\"}".getBytes(StandardCharsets.UTF_8));
    String payload = Base64.getUrlEncoder().withoutPadding()
        .encodeToString("not json".getBytes(StandardCharsets.UTF_8));

    SignedJWT jwt = AwsToken.parseSignedJwt(header + "." + payload + ".c2ln");

    assertThatThrownBy(jwt::getJWTClaimsSet).isInstanceOf(ParseException.class);
  }

  private static String token(JWTClaimsSet claims) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
    jwt.sign(new MACSigner(KEY));
    return jwt.serialize();
  }
}
