package io.iidca.ca.store;

import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A data source for tests of {@link GroupCommit}: it counts connections and commits, and can
 * hold the committer at {@code getConnection} or at {@code commit} until the test releases it,
 * or make commits or statements fail as a lost connection would. Every other call goes to the
 * real database.
 */
final class GatedDataSource implements DataSource {

  private static final long HOLD_LIMIT_SECONDS = 30;

  private final DataSource database;
  private final AtomicInteger commits = new AtomicInteger();
  private final AtomicInteger rollbacks = new AtomicInteger();
  private volatile CountDownLatch connectionGate = new CountDownLatch(0);
  private volatile CountDownLatch commitGate = new CountDownLatch(0);
  private final CountDownLatch heldAtConnection = new CountDownLatch(1);
  private final CountDownLatch heldAtCommit = new CountDownLatch(1);
  private volatile boolean failCommits;
  private volatile boolean failStatements;
  private final AtomicInteger connections = new AtomicInteger();

  GatedDataSource(DataSource database) {
    this.database = database;
  }

  /** Blocks the next callers of {@code getConnection} until {@link #release}. */
  void holdConnections() {
    connectionGate = new CountDownLatch(1);
  }

  /** Blocks callers of {@code commit} until {@link #release}. */
  void holdCommits() {
    commitGate = new CountDownLatch(1);
  }

  void failCommits() {
    failCommits = true;
  }

  /** Makes every statement fail as a lost connection would, before it reaches the database. */
  void failStatements() {
    failStatements = true;
  }

  /** Returns how many connections callers have taken. */
  int connections() {
    return connections.get();
  }

  void release() {
    connectionGate.countDown();
    commitGate.countDown();
  }

  /** Waits until a caller is held at {@code getConnection}. */
  boolean awaitHeldAtConnection() throws InterruptedException {
    return heldAtConnection.await(HOLD_LIMIT_SECONDS, TimeUnit.SECONDS);
  }

  /** Waits until a caller is held at {@code commit}. */
  boolean awaitHeldAtCommit() throws InterruptedException {
    return heldAtCommit.await(HOLD_LIMIT_SECONDS, TimeUnit.SECONDS);
  }

  int commits() {
    return commits.get();
  }

  int rollbacks() {
    return rollbacks.get();
  }

  @Override
  public Connection getConnection() throws SQLException {
    heldAtConnection.countDown();
    await(connectionGate);
    connections.incrementAndGet();
    Connection connection = database.getConnection();
    return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
        new Class<?>[] {Connection.class}, (proxy, method, arguments) -> {
          if (method.getName().equals("commit")) {
            heldAtCommit.countDown();
            await(commitGate);
            if (failCommits) {
              throw new SQLNonTransientConnectionException("connection lost at commit",
                  "08006");
            }
            commits.incrementAndGet();
          } else if (method.getName().equals("rollback") && arguments == null) {
            rollbacks.incrementAndGet();
          } else if (method.getName().equals("prepareStatement") && failStatements) {
            throw new SQLNonTransientConnectionException("connection lost at a statement",
                "08006");
          }
          try {
            return method.invoke(connection, arguments);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  private static void await(CountDownLatch gate) throws SQLException {
    try {
      if (!gate.await(HOLD_LIMIT_SECONDS, TimeUnit.SECONDS)) {
        throw new SQLException("the test did not release the gate");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SQLException("interrupted at the gate", e);
    }
  }

  @Override
  public Connection getConnection(String username, String password) {
    throw new UnsupportedOperationException("only getConnection() is used");
  }

  @Override
  public PrintWriter getLogWriter() {
    return null;
  }

  @Override
  public void setLogWriter(PrintWriter out) {}

  @Override
  public void setLoginTimeout(int seconds) {}

  @Override
  public int getLoginTimeout() {
    return 0;
  }

  @Override
  public Logger getParentLogger() {
    return Logger.getGlobal();
  }

  @Override
  public <T> T unwrap(Class<T> type) throws SQLException {
    throw new SQLException("not a wrapper");
  }

  @Override
  public boolean isWrapperFor(Class<?> type) {
    return false;
  }
}
