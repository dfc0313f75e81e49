package io.iidca.ca.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.UnavailableException;
import io.iidca.ca.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The tenant key cache: cache headers, refetch on an unknown key id, and outages. */
class TenantKeysTest {

  private TestTenant tenant;
  private MutableClock clock;
  private TenantKeys keys;

  @BeforeEach
  void start() throws Exception {
    tenant = new TestTenant();
    clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    keys = new TenantKeys(tenant.openIdConfigUrl(), TestTenant.TENANT,
        TenantKeys.defaultClient(), clock, Duration.ofMinutes(5), Duration.ofSeconds(10));
  }

  @AfterEach
  void stop() {
    tenant.close();
  }

  @Test
  void issuerHasTenantSubstituted() {
    assertThat(keys.issuer()).isEqualTo(tenant.v2Issuer());
  }

  @Test
  void keysAreCachedForMaxAge() {
    tenant.cacheControl = "public, max-age=600";

    keys.key(tenant.keyId, null);
    clock.advance(Duration.ofSeconds(599));
    keys.key(tenant.keyId, null);

    assertThat(tenant.keyFetches.get()).isEqualTo(1);
    clock.advance(Duration.ofSeconds(2));
    keys.key(tenant.keyId, null);
    assertThat(tenant.keyFetches.get()).isEqualTo(2);
    assertThat(tenant.configFetches.get()).isEqualTo(2);
  }

  @Test
  void unknownKeyIdRefetchesOnceThenIsRateLimited() throws Exception {
    keys.key(tenant.keyId, null);
    clock.advance(Duration.ofMinutes(5));

    assertThatThrownBy(() -> keys.key("rolled-key", null))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("key id rolled-key is not in the key set of tenant");
    assertThat(tenant.keyFetches.get()).isEqualTo(2);
    assertThatThrownBy(() -> keys.key("rolled-key", null))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("next refetch is allowed at 2026-01-01T00:10:00Z");
    assertThat(tenant.keyFetches.get()).isEqualTo(2);
  }

  @Test
  void unknownKeyIdRightAfterFetchIsNotRefetched() {
    keys.key(tenant.keyId, null);

    assertThatThrownBy(() -> keys.key("rolled-key", null))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("next refetch is allowed at 2026-01-01T00:05:00Z");
    assertThat(tenant.keyFetches.get()).isEqualTo(1);
  }

  @Test
  void rolledKeyIsFoundAfterRefetch() throws Exception {
    keys.key(tenant.keyId, null);
    var rolled = AzureTestPki.rsa();
    tenant.jwks = TestTenant.jwks("rolled-key", rolled);
    clock.advance(Duration.ofMinutes(5));

    assertThat(keys.key("rolled-key", null)).isEqualTo(rolled.getPublic());
    assertThat(tenant.keyFetches.get()).isEqualTo(2);
  }

  @Test
  void serverErrorIsUnavailableThenRecovers() {
    tenant.status = 500;

    assertThatThrownBy(() -> keys.key(tenant.keyId, null))
        .isInstanceOf(UnavailableException.class)
        .hasMessageContaining("HTTP 500");
    assertThatThrownBy(() -> keys.key(tenant.keyId, null))
        .isInstanceOf(UnavailableException.class)
        .hasMessageContaining("next attempt is at 2026-01-01T00:00:10Z");
    assertThat(tenant.configFetches.get()).isEqualTo(1);

    tenant.status = 200;
    clock.advance(Duration.ofSeconds(10));
    assertThat(keys.key(tenant.keyId, null)).isEqualTo(tenant.key.getPublic());
    assertThat(tenant.configFetches.get()).isEqualTo(2);
  }

  @Test
  void expiredKeysStayInUseDuringOutage() {
    keys.key(tenant.keyId, null);
    tenant.status = 503;
    clock.advance(Duration.ofHours(2));

    assertThat(keys.key(tenant.keyId, null)).isEqualTo(tenant.key.getPublic());
    assertThat(tenant.configFetches.get()).isEqualTo(2);
  }

  @Test
  void unreachableHostIsUnavailable() {
    tenant.close();

    assertThatThrownBy(() -> keys.issuer())
        .isInstanceOf(UnavailableException.class)
        .hasMessageContaining(tenant.openIdConfigUrl().toString());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "max-age=600|600",
      "public, max-age=86400|86400",
      "max-age=5|60",
      "max-age=999999999999|86400",
      "no-store|60",
      "no-cache, max-age=600|60",
      "public|3600"})
  void cacheControlSetsMaxAge(String header, long seconds) {
    assertThat(TenantKeys.maxAge(Optional.of(header))).isEqualTo(Duration.ofSeconds(seconds));
  }

  @Test
  void missingCacheControlUsesDefault() {
    assertThat(TenantKeys.maxAge(Optional.empty())).isEqualTo(TenantKeys.DEFAULT_MAX_AGE);
  }
}
