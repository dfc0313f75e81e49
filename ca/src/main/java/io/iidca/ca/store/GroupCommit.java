package io.iidca.ca.store;

import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.PolicyDeniedException;
import io.iidca.ca.error.UnavailableException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records issuances in groups that share one transaction, so that a busy CA pays for one
 * commit per group instead of one per certificate.
 *
 * <p>Callers of {@link #record} wait while a committer thread takes every issuance queued, up
 * to {@code maxGroup}, writes them and commits them together. A group of first enrollments is
 * first written with one batch per table; when that fails, as on a replayed token, it is
 * rolled back and written again with a savepoint before each issuance
 * ({@link IssuanceWriter#write}), which decides each one. No timer delays a lone issuance: at
 * low load each group contains one, and a caller waits for at most the commit in progress and its
 * own.
 *
 * <p>What holds, as when each issuance had its own transaction:
 * <ul>
 *   <li>{@link #record} returns only after the commit that contains its issuance returned. When
 *       that commit fails, every issuance of the group fails with {@link UnavailableException},
 *       so no certificate of it is handed out.
 *   <li>An issuance that is refused (a replayed token id, a second enrollment under trust on
 *       first use, a revoked certificate or a key revoked for keyCompromise renewed) is rolled
 *       back to its savepoint and fails alone. Two issuances of one group are decided in queue
 *       order, as if committed one after the other: the second sees the first's rows in the
 *       same transaction.
 *   <li>Any other failure while writing rolls back the whole group, and its issuances are then
 *       written one transaction each, so the faulty one fails alone.
 *   <li>Between CA nodes, the database's primary keys decide, because each group is one
 *       transaction.
 * </ul>
 *
 * <p>Thread-safe. {@link #close} stops the threads and fails the issuances still queued.
 */
final class GroupCommit implements AutoCloseable {

  /**
   * The default maximum group size: the in-flight signing requests of a 2-processor machine.
   * NOTE: this and the committer counts below are estimates, not measured optima.
   */
  static final int DEFAULT_MAX_GROUP = 64;
  /**
   * Committer threads of a store, for either database. H2's commits are serial anyway.
   * PostgreSQL syncs its log at each commit, so larger groups cost it less. At 64 connections,
   * four committers made groups of about two issuances and one made groups of about six.
   * PostgreSQL's CPU per certificate then halved, and in two pairs of runs the sign rate rose
   * by 10 and 41% and the p99 latency fell by 20 and 39% (bench/RESULTS.md).
   */
  static final int COMMITTERS = 1;
  /**
   * How long a caller waits for a committer to take its issuance. Once taken, the issuance may
   * be committed, so the caller waits for the outcome however long the commit takes.
   */
  static final Duration WAIT_LIMIT = Duration.ofSeconds(60);

  private static final Logger LOG = LoggerFactory.getLogger(GroupCommit.class);
  private static final String STAGE = "record";

  private final DataSource dataSource;
  private final int maxGroup;
  private final Duration waitLimit;
  private final BlockingQueue<Pending> queue;
  private final List<Thread> committers = new ArrayList<>();
  private volatile boolean closed;

  /**
   * Starts the committer threads.
   *
   * @param maxGroup the maximum number of issuances in one transaction
   * @param committers threads that commit groups at once. More than one lets a networked
   *     database overlap the round trips of several groups, and makes each group smaller
   */
  GroupCommit(DataSource dataSource, int maxGroup, int committers, String threadName) {
    this(dataSource, maxGroup, committers, threadName, WAIT_LIMIT);
  }

  /**
   * Starts the committer threads, with {@code waitLimit} in place of {@link #WAIT_LIMIT}, so
   * that tests need not wait a minute.
   */
  GroupCommit(DataSource dataSource, int maxGroup, int committers, String threadName,
      Duration waitLimit) {
    if (maxGroup < 1 || committers < 1) {
      throw new IllegalArgumentException("maxGroup and committers must be at least 1, got "
          + maxGroup + " and " + committers);
    }
    this.dataSource = dataSource;
    this.maxGroup = maxGroup;
    this.waitLimit = waitLimit;
    this.queue = new ArrayBlockingQueue<>(16 * maxGroup);
    for (int i = 0; i < committers; i++) {
      Thread committer = new Thread(this::run, threadName + "-" + i);
      committer.setDaemon(true);
      committer.start();
      this.committers.add(committer);
    }
  }

  /**
   * One queued issuance and the caller's outcome. Its state moves from queued to taken when a
   * committer takes it into a group, or to abandoned when its caller stopped waiting first.
   * Exactly one of the two happens, so an abandoned issuance is never written, and a taken one
   * is never abandoned.
   */
  private static final class Pending {

    private static final int QUEUED = 0;
    private static final int TAKEN = 1;
    private static final int ABANDONED = 2;

    final Issuance issuance;
    final CompletableFuture<Void> outcome;
    private final AtomicInteger state = new AtomicInteger(QUEUED);

    Pending(Issuance issuance, CompletableFuture<Void> outcome) {
      this.issuance = issuance;
      this.outcome = outcome;
    }

    Issuance issuance() {
      return issuance;
    }

    CompletableFuture<Void> outcome() {
      return outcome;
    }

    /** Marks this issuance as taken by a committer, or returns false if its caller abandoned it. */
    boolean take() {
      return state.compareAndSet(QUEUED, TAKEN);
    }

    /** Marks this issuance as abandoned by its caller, or returns false if a committer took it. */
    boolean abandon() {
      return state.compareAndSet(QUEUED, ABANDONED);
    }
  }

  /** Queued by {@link #close} to wake the committer. */
  private static final Pending STOP = new Pending(null, null);

  /**
   * Records one issuance and returns after its group committed.
   *
   * @throws IdentityRejectedException if the token id was already used
   * @throws PolicyDeniedException if trust on first use applies and the instance is registered,
   *     or the renewed certificate is revoked, or a renewal's key was revoked for keyCompromise
   * @throws UnavailableException if the database fails, the store is closing, or no
   *     committer took the issuance within {@link #WAIT_LIMIT}
   */
  void record(Issuance issuance) {
    Pending pending = new Pending(issuance, new CompletableFuture<>());
    if (closed || !queue.offer(pending)) {
      throw new UnavailableException(STAGE, "cannot record certificate " + issuance.serial()
          + ": the store is " + (closed ? "closing" : "busy with " + queue.size()
          + " queued certificates") + "; retry later");
    }
    if (closed && queue.remove(pending)) {
      throw new UnavailableException(STAGE, "cannot record certificate " + issuance.serial()
          + ": the store is closing; retry later");
    }
    await(pending);
  }

  /** Returns whether every committer thread has ended. */
  boolean stopped() {
    return committers.stream().noneMatch(Thread::isAlive);
  }

  /** Returns the number of issuances waiting for a committer. */
  int queued() {
    return queue.size();
  }

  /**
   * Waits for the outcome of {@code pending}. When no committer has taken it within the wait
   * limit, abandons it and fails with 503, and no committer writes it afterwards. A taken
   * issuance may be committed, so the caller waits for its outcome and never gets a 503 for a
   * certificate that was recorded, which under trust on first use would lock its instance out.
   */
  private void await(Pending pending) {
    String serial = pending.issuance().serial();
    long started = System.nanoTime();
    try {
      while (true) {
        try {
          pending.outcome().get(waitLimit.toMillis(), TimeUnit.MILLISECONDS);
          return;
        } catch (TimeoutException e) {
          if (pending.abandon()) {
            throw new UnavailableException(STAGE, "the commit of certificate " + serial
                + " did not start within " + waitLimit.toSeconds() + " s; retry later", e);
          }
          // NOTE: a commit that never returns, such as on a database connection without a
          // socket timeout, keeps this caller waiting. It is logged each wait limit.
          LOG.warn("certificate {} has been committing for {} s; waiting for the outcome,"
              + " because the certificate may be recorded", serial,
              TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started));
        }
      }
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      throw new IllegalStateException("unexpected failure recording " + serial, e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      if (pending.abandon()) {
        throw new UnavailableException(STAGE, "interrupted while recording certificate "
            + serial, e);
      }
      // NOTE: the issuance is being committed and may be recorded although its caller gives
      // up. Only an interrupt of the worker thread gets here, and the CA sends none.
      throw new UnavailableException(STAGE, "interrupted while certificate " + serial
          + " was being committed; it may be recorded", e);
    }
  }

  private void run() {
    List<Pending> group = new ArrayList<>(maxGroup);
    boolean stop = false;
    while (!stop) {
      try {
        group.add(queue.take());
        queue.drainTo(group, maxGroup - 1);
        stop = group.removeIf(pending -> pending == STOP) || closed;
        // An issuance whose caller stopped waiting is dropped: its caller got a 503.
        group.removeIf(pending -> !pending.take());
        if (!group.isEmpty()) {
          commit(group);
        }
      } catch (InterruptedException e) {
        stop = true;
      } catch (RuntimeException | Error e) {
        // commit completes every outcome itself, so this only keeps the thread alive after a
        // defect.
        LOG.error("the committer failed on a group of {} certificates, which fail with 503",
            group.size(), e);
        failAll(group, new UnavailableException(STAGE, "the store's committer failed: " + e,
            e));
      } finally {
        group.clear();
      }
    }
    // Wakes the next committer. close() removes the last STOP from the queue.
    queue.offer(STOP);
  }

  /** Writes and commits one group, then completes each issuance's outcome. */
  private void commit(List<Pending> group) {
    RuntimeException[] rejections = new RuntimeException[group.size()];
    boolean written;
    try (Connection connection = dataSource.getConnection()) {
      connection.setAutoCommit(false);
      try {
        written = writeBatch(connection, group) || writeEach(connection, group, rejections);
        if (written) {
          connection.commit();
        } else {
          connection.rollback();
        }
      } catch (SQLException | RuntimeException e) {
        JdbcStore.rollbackQuietly(connection);
        throw e;
      } finally {
        JdbcStore.restoreAutoCommitQuietly(connection);
      }
    } catch (SQLException | RuntimeException e) {
      for (Pending pending : group) {
        pending.outcome().completeExceptionally(failure(e, pending.issuance()));
      }
      return;
    }
    if (!written) {
      if (group.size() > 1) {
        LOG.warn("a group of {} certificates failed to write; writing them one by one",
            group.size());
        for (Pending pending : group) {
          commit(List.of(pending));
        }
      }
      return;
    }
    for (int i = 0; i < group.size(); i++) {
      if (rejections[i] == null) {
        group.get(i).outcome().complete(null);
      } else {
        group.get(i).outcome().completeExceptionally(rejections[i]);
      }
    }
  }

  /**
   * Writes a group of first enrollments with one batch per table, and returns whether that
   * worked. A conflict or another failure of the data rolls the batch back, and the caller
   * writes the group again issuance by issuance to decide each one. A failure after which a
   * retry may succeed is thrown, and fails the group.
   */
  private static boolean writeBatch(Connection connection, List<Pending> group)
      throws SQLException {
    if (group.size() < 2
        || !group.stream().allMatch(pending -> IssuanceWriter.batchable(pending.issuance()))) {
      return false;
    }
    try {
      IssuanceWriter.writeBatch(connection, group.stream().map(Pending::issuance).toList());
      return true;
    } catch (SQLException | RuntimeException e) {
      if (retryable(e)) {
        throw e;
      }
      LOG.debug("a batch of {} certificates failed ({}); writing them one by one",
          group.size(), e.toString());
      connection.rollback();
      return false;
    }
  }

  /**
   * Writes each issuance after its own savepoint and collects the rejections. Returns false after
   * another failure of one issuance in a group, and leaves the transaction to be rolled back.
   *
   * @throws SQLException the failure of a lone issuance, or one after which a retry may
   *     succeed (the database is unavailable or timed out)
   */
  private static boolean writeEach(Connection connection, List<Pending> group,
      RuntimeException[] rejections) throws SQLException {
    for (int i = 0; i < group.size(); i++) {
      Pending pending = group.get(i);
      try {
        Savepoint savepoint = connection.setSavepoint();
        IssuanceWriter.write(connection, pending.issuance(), savepoint);
      } catch (IdentityRejectedException | PolicyDeniedException e) {
        rejections[i] = e;
      } catch (SQLException | RuntimeException e) {
        if (group.size() == 1 || retryable(e)) {
          // A lone issuance fails with its own error. An unavailable database fails the
          // whole group at once: writing each issuance alone would wait out the same timeout
          // once per issuance.
          throw e;
        }
        return false;
      }
    }
    return true;
  }

  /** Returns whether a retry may succeed: the database is unavailable, busy or timed out. */
  private static boolean retryable(Exception e) {
    return e instanceof SQLException sql && JdbcStore.retryable(sql);
  }

  private static RuntimeException failure(Exception e, Issuance issuance) {
    if (e instanceof SQLException sql) {
      return JdbcStore.translate(sql, "record certificate " + issuance.serial());
    }
    return (RuntimeException) e;
  }

  private static void failAll(List<Pending> group, RuntimeException failure) {
    for (Pending pending : group) {
      pending.outcome().completeExceptionally(failure);
    }
  }

  /**
   * Stops taking issuances, waits for the group in progress, and fails those still queued.
   * The committers are not interrupted, because an interrupt during file I/O closes a JDK file
   * channel (an {@code InterruptibleChannel}), which the embedded database may be using.
   */
  @Override
  public void close() {
    closed = true;
    if (!queue.offer(STOP)) {
      // A full queue keeps the committers busy; they see the flag after their groups.
      LOG.debug("the commit queue is full at close");
    }
    long deadline = System.nanoTime() + WAIT_LIMIT.toNanos();
    try {
      for (Thread committer : committers) {
        committer.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<Pending> left = new ArrayList<>();
    queue.drainTo(left);
    left.removeIf(pending -> pending == STOP);
    failAll(left, new UnavailableException(STAGE, "the store is closing; retry later"));
  }
}
