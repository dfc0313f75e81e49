package io.iidca.ca.provisioner;

import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.pki.Fingerprints;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Single-use ids of cloud-signed JWS tokens (RFC 7515) that carry no {@code jti}. Stateless.
 *
 * <p>The id is the SHA-256 of the token with its signature re-encoded in canonical base64url
 * (RFC 4648, 5). The decoder also accepts other spellings of the same signature bytes, such as
 * a last character whose unused bits differ. A hash of the text as received would give each
 * spelling its own id, so one token could be used once per spelling. The header and payload
 * need no re-encoding, because the signature covers their text.
 */
final class SignedTokenIds {

  private SignedTokenIds() {}

  /** Returns {@code sha256:} and the hex SHA-256 of the canonical form of a parsed token. */
  static String of(SignedJWT jwt) {
    ByteArrayOutputStream canonical = new ByteArrayOutputStream();
    canonical.writeBytes(jwt.getSigningInput());
    canonical.write('.');
    canonical.writeBytes(Base64URL.encode(jwt.getSignature().decode()).toString()
        .getBytes(StandardCharsets.US_ASCII));
    return "sha256:" + Fingerprints.sha256Hex(canonical.toByteArray());
  }
}
