package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The token id that the AWS token carries: unique, and ordered by the time it was made. */
class AwsTokenBuilderTest {

  private static final Instant NOW = Instant.parse("2026-12-05T11:00:00.123Z");

  @Test
  void tokenIdStartsWithTheTimeInMilliseconds() {
    String id = AwsTokenBuilder.tokenId(NOW);

    assertThat(id).matches("[0-9a-f]{32}");
    assertThat(Long.parseLong(id.substring(0, 12), 16)).isEqualTo(NOW.toEpochMilli());
  }

  @Test
  void tokenIdsOfOneMillisecondDiffer() {
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      ids.add(AwsTokenBuilder.tokenId(NOW));
    }

    assertThat(ids).hasSize(10_000);
    String millis = String.format("%012x", NOW.toEpochMilli());
    assertThat(ids).allSatisfy(id -> assertThat(id).startsWith(millis));
  }

  @Test
  void laterTokenIdsSortAfterEarlierOnes() {
    List<String> ids = List.of(
        AwsTokenBuilder.tokenId(NOW),
        AwsTokenBuilder.tokenId(NOW.plusMillis(1)),
        AwsTokenBuilder.tokenId(NOW.plusSeconds(300)));

    assertThat(ids).isSorted();
  }

  @Test
  void tokenCarriesTheId() throws Exception {
    // An RSA-2048 signature is 256 bytes, and HS256 needs a key of at least 32.
    String token = AwsTokenBuilder.build("https://ca.test/1.0/sign", "aws", "foo.local",
        List.of("foo.local"), "{}".getBytes(StandardCharsets.UTF_8),
        new byte[256], NOW);

    String id = SignedJWT.parse(token).getJWTClaimsSet().getJWTID();
    assertThat(id).matches("[0-9a-f]{32}");
    assertThat(Long.parseLong(id.substring(0, 12), 16)).isEqualTo(NOW.toEpochMilli());
  }
}
