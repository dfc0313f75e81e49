package io.iidca.ca.store;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A copy of the revocations for keyCompromise by key fingerprint, which the sign path reads
 * without a database query. A copy older than its maximum age is loaded again by one caller,
 * while the others go on with the old copy. After this node revokes a key, {@link #invalidate}
 * makes the next lookup load a new copy, so a revocation by another node reaches the copy within
 * the maximum age, and one by this node at once.
 *
 * <p>Thread-safe.
 */
final class CompromisedKeys {

  /** The maximum age of a copy: how long another node's revocation may go unseen. */
  static final Duration MAX_AGE = Duration.ofSeconds(10);

  private static final Logger LOG = LoggerFactory.getLogger(CompromisedKeys.class);

  /** The revocations by key fingerprint and the invalidation count when their load began. */
  private record Copy(Map<String, Revocation> byKey, long loadedAtNanos, long generation) {}

  private final Supplier<Map<String, Revocation>> loader;
  private final long maxAgeNanos;
  private final ReentrantLock loading = new ReentrantLock();
  private final AtomicLong generation = new AtomicLong();
  private volatile Copy copy;

  /**
   * @param loader returns every revocation for keyCompromise by key fingerprint, the earliest
   *     for each key; may throw when the database is unavailable
   */
  CompromisedKeys(Supplier<Map<String, Revocation>> loader, Duration maxAge) {
    this.loader = loader;
    this.maxAgeNanos = maxAge.toNanos();
  }

  /**
   * Returns the revocation for keyCompromise of a certificate with this key, if the copy has
   * one.
   *
   * @throws RuntimeException the loader's failure when there is no copy yet
   */
  Optional<Revocation> find(String keyFingerprint) {
    Copy current = copy;
    if (current == null || stale(current)) {
      current = load(current);
    }
    return Optional.ofNullable(current.byKey().get(keyFingerprint));
  }

  /** Makes the next lookup load a new copy, such as after this node revoked a key. */
  void invalidate() {
    generation.incrementAndGet();
  }

  private boolean stale(Copy candidate) {
    return candidate.generation() != generation.get()
        || System.nanoTime() - candidate.loadedAtNanos() > maxAgeNanos;
  }

  /**
   * Loads a new copy, or returns {@code current} when another caller is loading one or the
   * load fails. Without a copy, the caller waits for the load and gets its failure.
   */
  private Copy load(Copy current) {
    if (current == null) {
      loading.lock();
    } else if (!loading.tryLock()) {
      return current;
    }
    try {
      Copy latest = copy;
      if (latest != null && latest != current && !stale(latest)) {
        return latest;
      }
      // Read before the query: an invalidation during the query leaves the copy stale.
      long loadedGeneration = generation.get();
      Copy loaded = new Copy(Map.copyOf(loader.get()), System.nanoTime(), loadedGeneration);
      copy = loaded;
      return loaded;
    } catch (RuntimeException e) {
      if (current == null) {
        throw e;
      }
      LOG.warn("cannot load the keys revoked for keyCompromise ({}); using the copy loaded"
          + " {} s ago", e.getMessage(),
          Duration.ofNanos(System.nanoTime() - current.loadedAtNanos()).toSeconds());
      return current;
    } finally {
      loading.unlock();
    }
  }
}
