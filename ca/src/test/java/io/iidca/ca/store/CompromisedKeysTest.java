package io.iidca.ca.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.ca.error.UnavailableException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link CompromisedKeys}: lookups read a copy, which is loaded again when it is too old or
 * invalidated, and an old copy stays in use while the database fails. The loader replaces
 * the store's query.
 */
class CompromisedKeysTest {

  private static final String KEY = "ab".repeat(32);
  private static final Revocation REVOCATION = new Revocation("5a24", Instant.EPOCH,
      Revocation.KEY_COMPROMISE, "stolen", "holder");

  private final Map<String, Revocation> database = new ConcurrentHashMap<>();
  private final AtomicInteger loads = new AtomicInteger();
  private volatile boolean failing;

  private Map<String, Revocation> load() {
    loads.incrementAndGet();
    if (failing) {
      throw new UnavailableException("store", "database down");
    }
    return Map.copyOf(database);
  }

  @Test
  void lookupsShareOneCopy() {
    CompromisedKeys keys = new CompromisedKeys(this::load, Duration.ofHours(1));

    database.put(KEY, REVOCATION);
    keys.find(KEY);
    keys.find(KEY);

    assertThat(keys.find(KEY)).contains(REVOCATION);
    assertThat(loads).hasValue(1);
  }

  @Test
  void freshCopyMissesNewRevocation() {
    CompromisedKeys keys = new CompromisedKeys(this::load, Duration.ofHours(1));
    keys.find(KEY);

    database.put(KEY, REVOCATION);

    assertThat(keys.find(KEY)).isEmpty();
  }

  @Test
  void invalidatedCopyIsLoadedAgain() {
    CompromisedKeys keys = new CompromisedKeys(this::load, Duration.ofHours(1));
    keys.find(KEY);

    database.put(KEY, REVOCATION);
    keys.invalidate();

    assertThat(keys.find(KEY)).contains(REVOCATION);
    assertThat(loads).hasValue(2);
  }

  @Test
  void oldCopyIsLoadedAgain() {
    CompromisedKeys keys = new CompromisedKeys(this::load, Duration.ZERO);
    keys.find(KEY);

    database.put(KEY, REVOCATION);

    assertThat(keys.find(KEY)).contains(REVOCATION);
  }

  @Test
  void failedLoadKeepsOldCopy() {
    database.put(KEY, REVOCATION);
    CompromisedKeys keys = new CompromisedKeys(this::load, Duration.ZERO);
    keys.find(KEY);

    failing = true;

    assertThat(keys.find(KEY)).contains(REVOCATION);
    assertThat(loads).hasValue(2);
  }

  @Test
  void failedFirstLoadIsThrown() {
    CompromisedKeys keys = new CompromisedKeys(this::load, Duration.ofHours(1));
    failing = true;

    assertThatThrownBy(() -> keys.find(KEY)).isInstanceOf(UnavailableException.class)
        .hasMessageContaining("database down");
  }
}
