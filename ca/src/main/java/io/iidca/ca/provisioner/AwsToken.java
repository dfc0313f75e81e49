package io.iidca.ca.provisioner;

import com.nimbusds.jose.JOSEObject;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.aws.AwsSignatureForm;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.MalformedRequestException;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * The token an AWS instance sends: a JWS (RFC 7515) with HS256 whose key is the bytes of the
 * AWS signature it carries, as step's client builds it. The claims hold the usual {@code sub},
 * {@code aud}, {@code exp}, {@code jti}, optional {@code sans}, and {@code amazon} with the
 * identity document and exactly one signature, each base64:
 *
 * <ul>
 *   <li>{@code amazon.document} and {@code amazon.signature}: step's form, the raw signature of
 *       the {@code /signature} metadata path;
 *   <li>{@code amazon.document} and {@code amazon.rsa2048}: iidca's form, the DER PKCS#7 of
 *       {@code /rsa2048};
 *   <li>{@code amazon.document} and {@code amazon.pkcs7}: the DER PKCS#7 of {@code /pkcs7},
 *       accepted only where the provisioner enables it.
 * </ul>
 *
 * <p>The HMAC proves nothing about who built the token, because the signature it is keyed with
 * is readable by every process on the instance; the AWS signature over the document is the
 * proof of identity, and the token adds audience, expiry and single use.
 */
public record AwsToken(
    SignedJWT jwt,
    JWTClaimsSet claims,
    byte[] document,
    AwsSignatureForm form,
    byte[] signature) {

  static final String STAGE = "verify-aws";

  /**
   * Reads the token's claims without verifying anything.
   *
   * @throws MalformedRequestException if it is not a JWS with the fields above
   */
  public static AwsToken parse(SignedJWT jwt) {
    JWTClaimsSet claims;
    Map<String, Object> amazon;
    try {
      claims = jwt.getJWTClaimsSet();
      amazon = claims.getJSONObjectClaim("amazon");
    } catch (ParseException e) {
      throw new MalformedRequestException(STAGE, "token claims are not valid JSON");
    }
    if (amazon == null || !(amazon.get("document") instanceof String document)) {
      throw new MalformedRequestException(STAGE, "token has no amazon.document claim");
    }
    AwsSignatureForm form = null;
    String signature = null;
    for (String path : List.of("rsa2048", "signature", "pkcs7")) {
      if (amazon.get(path) instanceof String value) {
        if (form != null) {
          throw new MalformedRequestException(STAGE, "token carries both amazon." + form.path()
              + " and amazon." + path + ": send exactly one signature");
        }
        form = AwsSignatureForm.fromPath(path);
        signature = value;
      }
    }
    if (form == null) {
      throw new MalformedRequestException(STAGE,
          "token has none of amazon.rsa2048, amazon.signature, amazon.pkcs7");
    }
    return new AwsToken(jwt, claims, decode(document, "amazon.document"), form,
        decode(signature, "amazon." + form.path()));
  }

  /**
   * Parses a compact JWS (RFC 7515, 7.1) as {@link SignedJWT#parse} does, but decodes its
   * payload with {@code java.util.Base64} once, when the claims are first read. Nimbus decodes
   * in constant time, which took about ten times as long for the 3 KB payload of an AWS
   * token ({@code bench/run --costs}) and protects nothing, because the payload contains no
   * secret. A payload outside the base64url alphabet is decoded by Nimbus, which also accepts
   * the standard alphabet, so both parse the same tokens.
   *
   * @throws ParseException if the text is not three base64url parts with a JWS header
   */
  public static SignedJWT parseSignedJwt(String compact) throws ParseException {
    Base64URL[] parts = JOSEObject.split(compact);
    if (parts.length != 3) {
      throw new ParseException("unexpected number of base64url parts: " + parts.length, 0);
    }
    return new LazyClaimsJwt(parts[0], parts[1], parts[2]);
  }

  /**
   * Decodes standard base64 (RFC 4648, 4), padded or not. Line breaks are removed first,
   * because the metadata service splits its signatures into lines. Any other character outside
   * the alphabet is an error, where the MIME decoder would skip it.
   */
  private static byte[] decode(String base64, String claim) {
    try {
      return Base64.getDecoder().decode(base64.replace("\r", "").replace("\n", ""));
    } catch (IllegalArgumentException e) {
      throw new MalformedRequestException(STAGE, claim + " is not base64");
    }
  }

  /** Returns the token's sans claim, or null when absent. */
  public List<String> sans() {
    try {
      return claims.getStringListClaim("sans");
    } catch (ParseException e) {
      throw new IdentityRejectedException(STAGE, "token sans claim is not a list of strings");
    }
  }

  /** A SignedJWT whose claims are decoded with {@code java.util.Base64} and kept. */
  private static final class LazyClaimsJwt extends SignedJWT {

    private static final long serialVersionUID = 1L;

    private transient JWTClaimsSet claims;

    LazyClaimsJwt(Base64URL header, Base64URL payload, Base64URL signature)
        throws ParseException {
      super(header, payload, signature);
    }

    @Override
    public JWTClaimsSet getJWTClaimsSet() throws ParseException {
      if (claims == null) {
        claims = decodeClaims();
      }
      return claims;
    }

    private JWTClaimsSet decodeClaims() throws ParseException {
      byte[] json;
      try {
        json = Base64.getUrlDecoder().decode(getParsedParts()[1].toString());
      } catch (IllegalArgumentException e) {
        return super.getJWTClaimsSet();
      }
      return JWTClaimsSet.parse(new String(json, StandardCharsets.UTF_8));
    }
  }
}
