package io.iidca.ca.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.iidca.ca.config.DbConfig;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.IidcaException;
import io.iidca.ca.error.InternalException;
import io.iidca.ca.error.MalformedRequestException;
import io.iidca.ca.error.NotFoundException;
import io.iidca.ca.error.PolicyDeniedException;
import io.iidca.ca.error.UnavailableException;
import io.iidca.ca.pki.CaFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransientException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import org.flywaydb.core.api.MigrationState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CA's store over JDBC: the embedded H2 file database by default, PostgreSQL for several CA
 * nodes. The schema is applied by versioned migrations at open.
 *
 * <p>{@link #record} is the commit point of an issuance: the trust-on-first-use registration,
 * the used token id and the certificate are inserted in one transaction, which concurrent
 * issuances share ({@link GroupCommit}), and the database's primary keys decide races, so two
 * nodes cannot both register one instance.
 *
 * <p>Thread-safe. Connections come from a pool, and one committer thread writes the issuances.
 *
 * <p>NOTE: H2 writes each commit to its file (WRITE_DELAY=0) but does not fsync per commit, so
 * an operating system crash, unlike a process crash, may lose the last commits. PostgreSQL
 * fsyncs each commit.
 */
public final class JdbcStore implements AutoCloseable, io.iidca.ca.azure.NonceStore {

  /** H2's error code when another process has the database file open. */
  private static final int H2_DATABASE_ALREADY_OPEN = 90020;
  private static final int QUERY_TIMEOUT_SECONDS = 5;
  private static final Logger LOG = LoggerFactory.getLogger(JdbcStore.class);
  /** Inserts tried before a nonce collision, another live nonce with the same digits, fails. */
  private static final int NONCE_ATTEMPTS = 5;
  private static final java.security.SecureRandom NONCE_RANDOM =
      new java.security.SecureRandom();
  /**
   * B-tree page split size of 8 KB instead of H2's 16 KB. Each commit rewrites a leaf per
   * issuance in three indexes with random keys (instance, registration, token id), and 8-KB
   * leaves cut the CPU per certificate by about a tenth (bench/RESULTS.md). 4 KB raised the
   * p99 latency. H2 does not store the setting in the file, so existing databases get it too.
   */
  private static final String H2_PAGE_SPLIT = "PAGE_SIZE=8192";
  /**
   * H2's page cache in KB, 4 MB instead of H2's default of 16 MB. H2 caches each page that a
   * commit writes, so under load the cached pages are young, and they are most of what a
   * young collection of the parallel collector copies.
   * Under keep-alive load its pauses averaged about 16 ms with 4 MB, 37 ms with 16 MB and
   * 53 ms with 32 MB, and the p99 latency fell by about a sixth at the same CPU per
   * certificate. Boot storms took up to 7% longer (bench/RESULTS.md). A configured url that
   * sets CACHE_SIZE keeps its own.
   */
  static final int H2_CACHE_KB = 4096;

  private final HikariDataSource dataSource;
  private final GroupCommit commits;
  private final CompromisedKeys compromisedKeys;

  private JdbcStore(HikariDataSource dataSource) {
    this.dataSource = dataSource;
    this.commits = new GroupCommit(dataSource, GroupCommit.DEFAULT_MAX_GROUP,
        GroupCommit.COMMITTERS, "iidca-store-commit");
    this.compromisedKeys = new CompromisedKeys(this::loadCompromisedKeys,
        CompromisedKeys.MAX_AGE);
  }

  /** Opens the store, applies pending migrations, and accepts a newer schema. */
  public static JdbcStore open(DbConfig db, CaFiles files) {
    return open(db, files, false);
  }

  /**
   * Opens the store and applies pending migrations.
   *
   * @param refuseNewerSchema fail when the database holds migrations this release does not
   *     know, instead of running on them; they come from a newer iidca on the same database,
   *     and migrations only add, so an older node normally keeps working during an upgrade
   * @throws UnavailableException if the database cannot be reached or migrated
   */
  public static JdbcStore open(DbConfig db, CaFiles files, boolean refuseNewerSchema) {
    requireEmbeddedFileFree(db, files);
    HikariDataSource dataSource = dataSource(db, files);
    try {
      SchemaStatus status = status(dataSource);
      if (!status.newer().isEmpty()) {
        if (refuseNewerSchema) {
          throw new UnavailableException("store", "the database schema has versions "
              + status.newer() + " that this iidca does not know: upgrade iidca, or start"
              + " without --refuse-newer-schema");
        }
        LOG.warn("the database schema has versions {} that this iidca does not know; running"
            + " on it because migrations only add", status.newer());
      }
      flyway(dataSource).migrate();
      return new JdbcStore(dataSource);
    } catch (org.flywaydb.core.api.FlywayException e) {
      dataSource.close();
      throw new UnavailableException("store", "cannot open or migrate the database: "
          + e.getMessage(), e);
    } catch (RuntimeException e) {
      dataSource.close();
      throw e;
    }
  }

  /** The size of an embedded database file before and after {@link #compactEmbedded}. */
  public record Compaction(Path file, long bytesBefore, long bytesAfter) {}

  /**
   * Rewrites an embedded H2 database into a compact file ({@code SHUTDOWN COMPACT}). With
   * every commit written before it returns, as iidca configures H2, the file grew by about 14 KB
   * per commit in a measurement and did not shrink when idle or closed. Needs the database to be
   * closed: run it while no CA process uses it.
   *
   * @throws IllegalArgumentException if the database is not an embedded H2 file
   * @throws UnavailableException if the file is in use or cannot be compacted
   */
  public static Compaction compactEmbedded(DbConfig db, CaFiles files) {
    if (!db.type().equals("h2")) {
      throw new IllegalArgumentException("compact works on the embedded H2 database only; this"
          + " store is " + db.type() + ", whose own tools (VACUUM for PostgreSQL) reclaim space");
    }
    String url = db.url() != null ? db.url()
        : "jdbc:h2:file:" + files.database().toAbsolutePath();
    String prefix = url.startsWith("jdbc:h2:file:") ? "jdbc:h2:file:" : "jdbc:h2:";
    String location = url.substring(prefix.length()).split(";", 2)[0];
    if (location.startsWith("mem:") || location.startsWith("tcp:") || location.startsWith("ssl:")
        || !url.startsWith("jdbc:h2:")) {
      throw new IllegalArgumentException("compact works on an embedded H2 file database, not "
          + url);
    }
    Path file = Path.of(location + ".mv.db");
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("database file " + file + " not found; check the"
          + " iidca path or --db");
    }
    try {
      long before = Files.size(file);
      try (Connection connection = java.sql.DriverManager.getConnection(
              url + ";IFEXISTS=TRUE;" + H2_PAGE_SPLIT, db.user(),
              db.passwordFile() == null ? null : readPassword(files, db.passwordFile()));
          java.sql.Statement statement = connection.createStatement()) {
        statement.execute("SHUTDOWN COMPACT");
      }
      return new Compaction(file, before, Files.size(file));
    } catch (SQLException e) {
      String inUse = e.getErrorCode() == H2_DATABASE_ALREADY_OPEN ? "; the file is in use,"
          + " probably by iidca serve: stop the CA, then compact" : "";
      throw new UnavailableException("store", "cannot compact " + file + ": " + e.getMessage()
          + inUse, e);
    } catch (IOException e) {
      throw new UnavailableException("store", "cannot read the size of " + file + ": "
          + e.getMessage(), e);
    }
  }

  /**
   * Returns the schema versions of a database without changing it.
   *
   * @throws UnavailableException if the database cannot be reached
   */
  public static SchemaStatus inspect(DbConfig db, CaFiles files) {
    requireEmbeddedFileFree(db, files);
    try (HikariDataSource dataSource = dataSource(db, files)) {
      return status(dataSource);
    } catch (org.flywaydb.core.api.FlywayException e) {
      throw new UnavailableException("store", "cannot read the database schema: "
          + e.getMessage(), e);
    }
  }

  /**
   * The schema of a database.
   *
   * @param current the newest applied version, or null for an empty database
   * @param pending versions this release would apply
   * @param newer versions applied by a newer release, unknown to this one
   */
  public record SchemaStatus(String current, List<String> pending, List<String> newer) {}

  private static SchemaStatus status(HikariDataSource dataSource) {
    MigrationInfoService info = flyway(dataSource).info();
    List<String> pending = new ArrayList<>();
    for (MigrationInfo migration : info.pending()) {
      pending.add(migration.getVersion().getVersion());
    }
    List<String> newer = new ArrayList<>();
    for (MigrationInfo migration : info.all()) {
      if (migration.getState() == MigrationState.FUTURE_SUCCESS) {
        newer.add(migration.getVersion().getVersion());
      }
    }
    MigrationInfo current = info.current();
    return new SchemaStatus(current == null || current.getVersion() == null ? null
        : current.getVersion().getVersion(), pending, newer);
  }

  private static Flyway flyway(HikariDataSource dataSource) {
    return Flyway.configure(JdbcStore.class.getClassLoader())
        .dataSource(dataSource)
        .locations("classpath:io/iidca/ca/store/migration")
        .load();
  }

  /**
   * Fails at once when another process has the embedded H2 file open. The pool would otherwise
   * wait its 10 s connection timeout and then report H2's and Flyway's internals. Errors other
   * than a file in use are left for the pool to report.
   *
   * @throws UnavailableException naming the file if another process has it open
   */
  private static void requireEmbeddedFileFree(DbConfig db, CaFiles files) {
    if (!db.type().equals("h2")) {
      return;
    }
    String url = db.url() != null ? db.url()
        : "jdbc:h2:file:" + files.database().toAbsolutePath();
    String lower = url.toLowerCase(Locale.ROOT);
    if (lower.startsWith("jdbc:h2:mem:") || lower.startsWith("jdbc:h2:tcp:")
        || lower.startsWith("jdbc:h2:ssl:")) {
      return;
    }
    String password = db.passwordFile() == null ? null : readPassword(files, db.passwordFile());
    try (Connection probe = java.sql.DriverManager.getConnection(url + ";IFEXISTS=TRUE",
        db.user(), password)) {
      // Opened and closed again: no other process has the file.
    } catch (SQLException e) {
      if (e.getErrorCode() == H2_DATABASE_ALREADY_OPEN) {
        String location = url.substring(url.startsWith("jdbc:h2:file:")
            ? "jdbc:h2:file:".length() : "jdbc:h2:".length()).split(";", 2)[0];
        throw new UnavailableException("store", "the database file " + location + ".mv.db is"
            + " in use, probably by iidca serve: stop that CA first, or set IIDCA_PATH to the"
            + " directory of another CA", e);
      }
    }
  }

  static HikariDataSource dataSource(DbConfig db, CaFiles files) {
    HikariConfig config = new HikariConfig();
    if (db.type().equals("h2")) {
      String url = db.url() != null ? db.url()
          : "jdbc:h2:file:" + files.database().toAbsolutePath();
      // NOTE: a configured url that sets WRITE_DELAY or PAGE_SIZE itself fails to open with
      // H2's "Duplicate property" error.
      boolean ownCache = url.toUpperCase(Locale.ROOT).contains(";CACHE_SIZE=");
      config.setJdbcUrl(url + ";WRITE_DELAY=0;" + H2_PAGE_SPLIT
          + (ownCache ? "" : ";CACHE_SIZE=" + H2_CACHE_KB));
      config.setMaximumPoolSize(4);
    } else {
      config.setJdbcUrl(db.url());
      config.setMaximumPoolSize(8);
    }
    if (db.user() != null) {
      config.setUsername(db.user());
    }
    if (db.passwordFile() != null) {
      config.setPassword(readPassword(files, db.passwordFile()));
    }
    config.setPoolName("iidca-store");
    // A networked database fails fast when it is gone, so the request gets a 503 with
    // Retry-After. An embedded one cannot go away, and only waits for a busy pool.
    boolean embedded = db.type().equals("h2");
    config.setConnectionTimeout(embedded ? 10_000 : 2_000);
    config.setValidationTimeout(embedded ? 5_000 : 1_000);
    config.setInitializationFailTimeout(-1);
    config.setAutoCommit(true);
    return new HikariDataSource(config);
  }

  private static String readPassword(CaFiles files, String passwordFile) {
    try {
      return Files.readString(files.resolve(passwordFile), StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new UnavailableException("store", "cannot read db.passwordFile " + passwordFile
          + ": " + e.getMessage());
    }
  }

  /**
   * Records an issuance: the trust-on-first-use registration, the used token id and the
   * certificate, committed before this returns. Concurrent calls share commits
   * ({@link GroupCommit}), and each issuance is decided as if it had its own transaction.
   *
   * @throws IdentityRejectedException if the token id was already used
   * @throws PolicyDeniedException if trust on first use applies and the instance is registered,
   *     or the renewed certificate was revoked, or a renewal's key was revoked for
   *     keyCompromise
   * @throws UnavailableException if the database cannot be reached or times out
   */
  public void record(Issuance issuance) {
    commits.record(issuance);
  }

  public Optional<CertificateRecord> findCertificate(String serial) {
    List<CertificateRecord> found = queryCertificates("WHERE serial = ?", serial);
    return found.stream().findFirst();
  }

  /** Returns the certificates issued to one instance, oldest first. */
  public List<CertificateRecord> certificatesOf(String provisioner, String instanceId) {
    return queryCertificates("WHERE provisioner = ? AND instance_id = ? ORDER BY issued_at",
        provisioner, instanceId);
  }

  /**
   * Returns the certificate that the request {@code issuance} repeats: one issued to the same
   * instance by the same provisioner for the same key, subject and names, at or after
   * {@code since}, valid at the issuance's time, not revoked and renewing nothing. A client
   * that lost the response to its enrollment sends the same request again, which the
   * registration or the used token id then rejects, and this finds what the first request got.
   */
  public Optional<CertificateRecord> findRepeatedIssuance(Issuance issuance, Instant since) {
    List<CertificateRecord> candidates = queryCertificates("WHERE provisioner = ? AND"
        + " instance_id = ? AND key_fingerprint = ? ORDER BY issued_at DESC",
        issuance.provisioner(), issuance.instanceId(), issuance.keyFingerprint());
    for (CertificateRecord candidate : candidates) {
      boolean sameRequest = candidate.renewedFrom() == null
          && candidate.subject().equals(issuance.subject())
          && candidate.sans().equals(issuance.sans());
      boolean recent = !candidate.issuedAt().isBefore(since)
          && issuance.issuedAt().isBefore(candidate.notAfter());
      if (sameRequest && recent && findRevocation(candidate.serial()).isEmpty()) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  public long countCertificates() {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = prepare(connection, "SELECT COUNT(*) FROM certificates");
        ResultSet rows = statement.executeQuery()) {
      rows.next();
      return rows.getLong(1);
    } catch (SQLException e) {
      throw translate(e, "count certificates");
    }
  }

  public Optional<Registration> findRegistration(String provisioner, String instanceId) {
    return queryRegistrations("WHERE provisioner = ? AND instance_id = ?", provisioner,
        instanceId).stream().findFirst();
  }

  /** Returns every registration, or those of one provisioner when it is not null. */
  public List<Registration> registrations(String provisioner) {
    return provisioner == null
        ? queryRegistrations("ORDER BY provisioner, instance_id")
        : queryRegistrations("WHERE provisioner = ? ORDER BY instance_id", provisioner);
  }

  /**
   * Revokes a recorded certificate, and records its key, which {@link #findKeyCompromise}
   * looks up.
   *
   * @throws NotFoundException if this CA never recorded the serial
   * @throws MalformedRequestException if the certificate is revoked already
   */
  public Revocation revoke(String serial, int reasonCode, String reason, String revokedBy,
      Instant at) {
    CertificateRecord certificate = findCertificate(serial).orElseThrow(() ->
        new NotFoundException("revoke", "no certificate with serial " + serial
            + " was issued by this CA"));
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = prepare(connection, "INSERT INTO revocations (serial,"
            + " revoked_at, reason_code, reason, revoked_by, key_fingerprint)"
            + " VALUES (?, ?, ?, ?, ?, ?)")) {
      statement.setString(1, serial);
      statement.setTimestamp(2, Timestamp.from(at));
      statement.setInt(3, reasonCode);
      statement.setString(4, reason);
      statement.setString(5, revokedBy);
      statement.setString(6, certificate.keyFingerprint());
      statement.executeUpdate();
      if (reasonCode == Revocation.KEY_COMPROMISE) {
        compromisedKeys.invalidate();
      }
      return new Revocation(serial, at, reasonCode, reason, revokedBy);
    } catch (SQLException e) {
      if (IssuanceWriter.UNIQUE_VIOLATION.equals(e.getSQLState())) {
        throw new MalformedRequestException("revoke", "certificate " + serial
            + " is already revoked");
      }
      throw translate(e, "revoke certificate " + serial);
    }
  }

  public Optional<Revocation> findRevocation(String serial) {
    return queryRevocations("WHERE serial = ?", serial).stream().findFirst();
  }

  /**
   * Returns the earliest revocation for keyCompromise of a certificate with this key, if any:
   * one lookup in the index on the revocations' key fingerprints.
   *
   * <p>NOTE: a node older than schema version 4 records no key with its revocations, so a key
   * that such a node revokes during a rolling upgrade is not found here.
   *
   * @param keyFingerprint the key's SHA-256 fingerprint, as {@code Fingerprints.of} computes it
   */
  public Optional<Revocation> findKeyCompromise(String keyFingerprint) {
    try (Connection connection = dataSource.getConnection()) {
      return findKeyCompromise(connection, keyFingerprint);
    } catch (SQLException e) {
      throw translate(e, "look up revocations of key " + keyFingerprint);
    }
  }

  /**
   * Returns what {@link #findKeyCompromise} returns, from a copy of the revocations for
   * keyCompromise that is at most {@link CompromisedKeys#MAX_AGE} old, so that the sign path
   * makes no query. This node's own revocations are in the copy at once, another node's
   * within that age.
   *
   * @throws UnavailableException if the database cannot be reached and no copy exists yet
   */
  public Optional<Revocation> findKeyCompromiseCopy(String keyFingerprint) {
    return compromisedKeys.find(keyFingerprint);
  }

  private Map<String, Revocation> loadCompromisedKeys() {
    Map<String, Revocation> byKey = new HashMap<>();
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = prepare(connection, "SELECT key_fingerprint, serial,"
            + " revoked_at, reason_code, reason, revoked_by FROM revocations"
            + " WHERE reason_code = " + Revocation.KEY_COMPROMISE
            + " AND key_fingerprint IS NOT NULL ORDER BY revoked_at");
        ResultSet rows = statement.executeQuery()) {
      while (rows.next()) {
        byKey.putIfAbsent(rows.getString(1), new Revocation(rows.getString(2),
            instant(rows, 3), rows.getInt(4), rows.getString(5), rows.getString(6)));
      }
      return byKey;
    } catch (SQLException e) {
      throw translate(e, "load the keys revoked for keyCompromise");
    }
  }

  /** Runs {@link #findKeyCompromise(String)} on {@code connection}, such as a transaction's. */
  static Optional<Revocation> findKeyCompromise(Connection connection, String keyFingerprint)
      throws SQLException {
    try (PreparedStatement statement = prepare(connection, "SELECT serial, revoked_at,"
        + " reason_code, reason, revoked_by FROM revocations WHERE key_fingerprint = ?"
        + " AND reason_code = " + Revocation.KEY_COMPROMISE + " ORDER BY revoked_at"
        + " FETCH FIRST 1 ROWS ONLY")) {
      statement.setString(1, keyFingerprint);
      try (ResultSet rows = statement.executeQuery()) {
        if (!rows.next()) {
          return Optional.empty();
        }
        return Optional.of(new Revocation(rows.getString(1), instant(rows, 2), rows.getInt(3),
            rows.getString(4), rows.getString(5)));
      }
    }
  }

  /** Returns every revocation, oldest first, for the CRL. */
  public List<Revocation> revocations() {
    return queryRevocations("ORDER BY revoked_at");
  }

  private List<Revocation> queryRevocations(String clause, String... parameters) {
    List<Revocation> revocations = new ArrayList<>();
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = prepare(connection, "SELECT serial, revoked_at,"
            + " reason_code, reason, revoked_by FROM revocations " + clause)) {
      bind(statement, parameters);
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          revocations.add(new Revocation(rows.getString(1), instant(rows, 2), rows.getInt(3),
              rows.getString(4), rows.getString(5)));
        }
      }
    } catch (SQLException e) {
      throw translate(e, "query revocations");
    }
    return revocations;
  }

  /**
   * Deletes an instance's registration so that it may enroll once more; its certificates stay
   * recorded. Returns whether there was one.
   */
  public boolean resetRegistration(String provisioner, String instanceId) {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = prepare(connection,
            "DELETE FROM registrations WHERE provisioner = ? AND instance_id = ?")) {
      statement.setString(1, provisioner);
      statement.setString(2, instanceId);
      return statement.executeUpdate() == 1;
    } catch (SQLException e) {
      throw translate(e, "reset registration of " + instanceId);
    }
  }

  /**
   * Records a token id as used until it expires, outside an issuance, as operator tokens are.
   * {@code scope} takes the place of a provisioner's name in the table.
   *
   * @throws IdentityRejectedException for {@code stage}, if it was used before
   */
  public void useToken(String scope, String tokenId, Instant expiry, String stage) {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = prepare(connection,
            "INSERT INTO used_tokens (provisioner, token_id, expires_at) VALUES (?, ?, ?)")) {
      statement.setString(1, scope);
      statement.setString(2, tokenId);
      statement.setTimestamp(3, Timestamp.from(expiry));
      statement.executeUpdate();
    } catch (SQLException e) {
      if (IssuanceWriter.UNIQUE_VIOLATION.equals(e.getSQLState())) {
        throw new IdentityRejectedException(stage, "token id " + tokenId
            + " was already used (replay)");
      }
      throw translate(e, "record token id");
    }
  }

  public boolean isTokenUsed(String provisioner, String tokenId) {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = prepare(connection,
            "SELECT 1 FROM used_tokens WHERE provisioner = ? AND token_id = ?")) {
      statement.setString(1, provisioner);
      statement.setString(2, tokenId);
      try (ResultSet rows = statement.executeQuery()) {
        return rows.next();
      }
    } catch (SQLException e) {
      throw translate(e, "look up token id");
    }
  }

  /** Deletes used token ids whose tokens expired before {@code now}; returns how many. */
  public int purgeExpiredTokens(Instant now) {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = prepare(connection,
            "DELETE FROM used_tokens WHERE expires_at < ?")) {
      statement.setTimestamp(1, Timestamp.from(now));
      return statement.executeUpdate();
    } catch (SQLException e) {
      throw translate(e, "purge expired token ids");
    }
  }

  /**
   * Issues a random 10-digit nonce for an Azure provisioner. Azure's IMDS accepts a nonce of up
   * to 32 alphanumeric characters (Azure REST API specification, imds.json, 2018-10-01 and
   * later); 10 digits give 33 bits, enough for a nonce that lives minutes and is used once.
   */
  @Override
  public String issueNonce(String provisioner, Instant expiresAt) {
    for (int attempt = 1; ; attempt++) {
      String nonce = String.format("%010d", NONCE_RANDOM.nextLong(10_000_000_000L));
      try (Connection connection = dataSource.getConnection();
          PreparedStatement statement = prepare(connection,
              "INSERT INTO azure_nonces (provisioner, nonce, expires_at) VALUES (?, ?, ?)")) {
        statement.setString(1, provisioner);
        statement.setString(2, nonce);
        // Both databases keep microseconds and would round a finer instant, possibly up.
        statement.setTimestamp(3, Timestamp.from(expiresAt.truncatedTo(ChronoUnit.MICROS)));
        statement.executeUpdate();
        return nonce;
      } catch (SQLException e) {
        if (!IssuanceWriter.UNIQUE_VIOLATION.equals(e.getSQLState()) || attempt >= NONCE_ATTEMPTS) {
          throw translate(e, "issue a nonce");
        }
        LOG.info("store: nonce collision for provisioner {}, attempt {}", provisioner, attempt);
      }
    }
  }

  /** Deletes the nonce if it is unexpired; the row count decides races between nodes. */
  @Override
  public boolean consumeNonce(String provisioner, String nonce, Instant now) {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = prepare(connection, "DELETE FROM azure_nonces"
            + " WHERE provisioner = ? AND nonce = ? AND expires_at > ?")) {
      statement.setString(1, provisioner);
      statement.setString(2, nonce);
      statement.setTimestamp(3, Timestamp.from(now.truncatedTo(ChronoUnit.MICROS)));
      return statement.executeUpdate() == 1;
    } catch (SQLException e) {
      throw translate(e, "consume a nonce");
    }
  }

  @Override
  public int purgeExpiredNonces(Instant now) {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = prepare(connection,
            "DELETE FROM azure_nonces WHERE expires_at <= ?")) {
      statement.setTimestamp(1, Timestamp.from(now));
      return statement.executeUpdate();
    } catch (SQLException e) {
      throw translate(e, "purge expired nonces");
    }
  }

  /** Returns whether the database responds to a trivial query within the validation timeout. */
  public boolean isHealthy() {
    try (Connection connection = dataSource.getConnection()) {
      return connection.isValid(2);
    } catch (SQLException e) {
      return false;
    }
  }

  @Override
  public void close() {
    commits.close();
    dataSource.close();
  }

  private List<CertificateRecord> queryCertificates(String clause, String... parameters) {
    String sql = "SELECT serial, provisioner, instance_id, account, subject, sans, not_before,"
        + " not_after, key_fingerprint, certificate_pem, issued_at, attested_at, renewed_from"
        + " FROM certificates " + clause;
    List<CertificateRecord> records = new ArrayList<>();
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = prepare(connection, sql)) {
      bind(statement, parameters);
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          String sans = rows.getString(6);
          records.add(new CertificateRecord(rows.getString(1), rows.getString(2),
              rows.getString(3), rows.getString(4), rows.getString(5),
              decodeSans(sans),
              instant(rows, 7), instant(rows, 8), rows.getString(9), rows.getString(10),
              instant(rows, 11), instant(rows, 12), rows.getString(13)));
        }
      }
    } catch (SQLException e) {
      throw translate(e, "query certificates");
    }
    return records;
  }

  /**
   * Decodes the sans column. Rows written before names were line-feed terminated hold them
   * comma-joined, and those rows never contain a line feed.
   */
  private static List<String> decodeSans(String sans) {
    if (sans.isEmpty()) {
      return List.of();
    }
    if (sans.indexOf('\n') < 0) {
      return Arrays.asList(sans.split(","));
    }
    return Arrays.asList(sans.substring(0, sans.length() - 1).split("\n", -1));
  }

  private List<Registration> queryRegistrations(String clause, String... parameters) {
    String sql = "SELECT provisioner, instance_id, account, pending_time, first_serial,"
        + " first_enrolled_at, last_enrolled_at, enrollments FROM registrations " + clause;
    List<Registration> registrations = new ArrayList<>();
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = prepare(connection, sql)) {
      bind(statement, parameters);
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          registrations.add(new Registration(rows.getString(1), rows.getString(2),
              rows.getString(3), instant(rows, 4), rows.getString(5), instant(rows, 6),
              instant(rows, 7), rows.getInt(8)));
        }
      }
    } catch (SQLException e) {
      throw translate(e, "query registrations");
    }
    return registrations;
  }

  static PreparedStatement prepare(Connection connection, String sql)
      throws SQLException {
    PreparedStatement statement = connection.prepareStatement(sql);
    statement.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
    return statement;
  }

  private static void bind(PreparedStatement statement, String... parameters)
      throws SQLException {
    for (int i = 0; i < parameters.length; i++) {
      statement.setString(i + 1, parameters[i]);
    }
  }

  static Instant instant(ResultSet rows, int column) throws SQLException {
    Timestamp timestamp = rows.getTimestamp(column);
    return timestamp == null ? null : timestamp.toInstant();
  }

  /**
   * Restores auto-commit before the connection returns to the pool. On a broken connection this
   * fails too, and that failure must not hide the one that broke it.
   */
  static void restoreAutoCommitQuietly(Connection connection) {
    try {
      connection.setAutoCommit(true);
    } catch (SQLException ignored) {
      // The pool tests the connection and discards it.
    }
  }

  static void rollbackQuietly(Connection connection) {
    try {
      connection.rollback();
    } catch (SQLException ignored) {
      // The connection is broken; the pool discards it and the transaction dies with it.
    }
  }

  private static boolean causedByIo(Throwable e) {
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof IOException) {
        return true;
      }
    }
    return false;
  }

  /** Maps a database failure to 503 when a retry may succeed, else to 500. */
  static IidcaException translate(SQLException e, String operation) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    String reason = "cannot " + operation + ": " + e.getMessage() + " (SQLState " + state + ")";
    return retryable(e) ? new UnavailableException("store", reason, e)
        : new InternalException("store", reason, e);
  }

  /**
   * Returns whether a retry of the failed operation may succeed: the connection failed, the
   * statement timed out or was cancelled, or the database is short of resources or aborted a
   * transaction (SQLState classes 08, 57, 53 and 40).
   */
  static boolean retryable(SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    return e instanceof SQLTransientException || e instanceof SQLTimeoutException
        || e instanceof java.sql.SQLNonTransientConnectionException
        || e instanceof java.sql.SQLRecoverableException
        || state.startsWith("08") || state.startsWith("57") || state.startsWith("53")
        || state.startsWith("40") || causedByIo(e);
  }
}
