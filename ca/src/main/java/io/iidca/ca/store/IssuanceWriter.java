package io.iidca.ca.store;

import static io.iidca.ca.store.JdbcStore.instant;
import static io.iidca.ca.store.JdbcStore.prepare;

import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.PolicyDeniedException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;

/**
 * The statements of one issuance, run inside a transaction that the caller opened and commits:
 * the revocation and key compromise checks of a renewal, the trust-on-first-use registration,
 * the used token id and the certificate. Several issuances may share one transaction, each
 * after its own savepoint.
 *
 * <p>The database's primary keys decide every race: a second registration of an instance or a
 * second use of a token id is a unique violation, also against a row that an earlier issuance of
 * the same transaction inserted.
 */
final class IssuanceWriter {

  /** SQLState of a unique or primary key violation, in H2 and PostgreSQL alike. */
  static final String UNIQUE_VIOLATION = "23505";
  private static final String STAGE = "record";

  private static final String INSERT_TOKEN =
      "INSERT INTO used_tokens (provisioner, token_id, expires_at) VALUES (?, ?, ?)";
  private static final String INSERT_REGISTRATION = "INSERT INTO registrations (provisioner,"
      + " instance_id, account, pending_time, first_serial, first_enrolled_at,"
      + " last_enrolled_at, enrollments) VALUES (?, ?, ?, ?, ?, ?, ?, 1)";
  private static final String INSERT_CERTIFICATE = "INSERT INTO certificates (serial,"
      + " provisioner, instance_id, account, subject, sans, not_before, not_after,"
      + " key_fingerprint, certificate_pem, issued_at, attested_at, renewed_from)"
      + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

  private IssuanceWriter() {}

  /**
   * Returns whether {@link #writeBatch} may write this issuance: a first enrollment, whose
   * statements are plain inserts. A renewal checks its revocation first, and a re-enrollment
   * over mutual TLS updates its registration.
   */
  static boolean batchable(Issuance issuance) {
    return issuance.renewedFrom() == null
        && issuance.reenrollment() != Issuance.Reenrollment.CURRENT_CERTIFICATE;
  }

  /**
   * Writes batchable issuances with one batch per table, the cheap way when nothing conflicts.
   * Any failure, a unique violation included, leaves the transaction to be rolled back. The
   * caller then writes the issuances one by one with {@link #write} to learn which one failed.
   */
  static void writeBatch(Connection connection, List<Issuance> issuances) throws SQLException {
    try (PreparedStatement registrations = prepare(connection, INSERT_REGISTRATION);
        PreparedStatement tokens = prepare(connection, INSERT_TOKEN);
        PreparedStatement certificates = prepare(connection, INSERT_CERTIFICATE)) {
      boolean registering = false;
      boolean usingTokens = false;
      for (Issuance issuance : issuances) {
        if (issuance.trustOnFirstUse()) {
          bindRegistration(registrations, issuance);
          registrations.addBatch();
          registering = true;
        }
        if (issuance.tokenId() != null) {
          bindToken(tokens, issuance);
          tokens.addBatch();
          usingTokens = true;
        }
        bindCertificate(certificates, issuance);
        certificates.addBatch();
      }
      if (registering) {
        registrations.executeBatch();
      }
      if (usingTokens) {
        tokens.executeBatch();
      }
      certificates.executeBatch();
    }
  }

  /**
   * Writes one issuance after {@code savepoint}, which the caller set just before. When the
   * issuance is rejected, the transaction is rolled back to {@code savepoint}, so the issuances
   * before it in the same transaction stay, and the rejection is thrown.
   *
   * @throws IdentityRejectedException if the token id was already used
   * @throws PolicyDeniedException if the renewed certificate is revoked, a renewal's key was
   *     revoked for keyCompromise, or trust on first use applies and the instance is registered
   * @throws SQLException on any other database failure; the transaction is then unusable
   */
  static void write(Connection connection, Issuance issuance, Savepoint savepoint)
      throws SQLException {
    try {
      if (issuance.renewedFrom() != null) {
        requireNotRevoked(connection, issuance.renewedFrom());
        requireKeyNotCompromised(connection, issuance);
      }
      // The registration goes first, so that a second enrollment is reported as such even
      // when the client reuses its token id, as step's client does.
      if (issuance.trustOnFirstUse()) {
        register(connection, issuance, savepoint);
      }
      insertToken(connection, issuance);
      insertCertificate(connection, issuance);
    } catch (IdentityRejectedException | PolicyDeniedException e) {
      connection.rollback(savepoint);
      throw e;
    }
  }

  private static void insertToken(Connection connection, Issuance issuance)
      throws SQLException {
    if (issuance.tokenId() == null) {
      return;
    }
    try (PreparedStatement statement = prepare(connection, INSERT_TOKEN)) {
      bindToken(statement, issuance);
      statement.executeUpdate();
    } catch (SQLException e) {
      if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
        throw new IdentityRejectedException(STAGE, "token id " + issuance.tokenId()
            + " was already used with provisioner " + issuance.provisioner() + " (replay)");
      }
      throw e;
    }
  }

  /**
   * Registers the instance, or, when it is registered already, lets it enroll again only as
   * {@link Issuance#reenrollment()} allows. A failed insert is rolled back to the issuance's
   * savepoint, because PostgreSQL aborts the whole transaction on an error otherwise. Nothing
   * of this issuance was written before the insert.
   */
  private static void register(Connection connection, Issuance issuance, Savepoint savepoint)
      throws SQLException {
    if (issuance.reenrollment() == Issuance.Reenrollment.CURRENT_CERTIFICATE
        && updateRegistration(connection, issuance, false)) {
      return;
    }
    try (PreparedStatement statement = prepare(connection, INSERT_REGISTRATION)) {
      bindRegistration(statement, issuance);
      statement.executeUpdate();
    } catch (SQLException e) {
      if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
        throw e;
      }
      connection.rollback(savepoint);
      boolean restarted = issuance.reenrollment() == Issuance.Reenrollment.RESTARTED_INSTANCE
          && issuance.pendingTime() != null && updateRegistration(connection, issuance, true);
      if (!restarted) {
        throw alreadyEnrolled(connection, issuance, savepoint);
      }
    }
  }

  /**
   * Counts one more enrollment of a registered instance. With {@code onlyIfRestarted} the row
   * changes only when the instance started later than it had at its last enrollment, so each
   * start allows exactly one enrollment, also when two nodes race.
   */
  private static boolean updateRegistration(Connection connection, Issuance issuance,
      boolean onlyIfRestarted) throws SQLException {
    String sql = "UPDATE registrations SET last_enrolled_at = ?, enrollments = enrollments + 1,"
        + " pending_time = ? WHERE provisioner = ? AND instance_id = ?"
        + (onlyIfRestarted ? " AND pending_time < ?" : "");
    try (PreparedStatement statement = prepare(connection, sql)) {
      statement.setTimestamp(1, Timestamp.from(issuance.issuedAt()));
      statement.setTimestamp(2, timestamp(issuance.pendingTime()));
      statement.setString(3, issuance.provisioner());
      statement.setString(4, issuance.instanceId());
      if (onlyIfRestarted) {
        statement.setTimestamp(5, timestamp(issuance.pendingTime()));
      }
      return statement.executeUpdate() == 1;
    }
  }

  private static void requireNotRevoked(Connection connection, String serial)
      throws SQLException {
    try (PreparedStatement statement = prepare(connection,
        "SELECT revoked_at FROM revocations WHERE serial = ?")) {
      statement.setString(1, serial);
      try (ResultSet rows = statement.executeQuery()) {
        if (rows.next()) {
          throw new PolicyDeniedException("renew", "certificate " + serial + " was revoked at "
              + instant(rows, 1) + "; enroll again with the instance's identity document");
        }
      }
    }
  }

  /**
   * Checks the renewal's key again inside the transaction: the renew stage checked it before
   * signing, and a revocation for keyCompromise may have committed since. First enrollments
   * are checked in the policy stage only, so that their batched commit reads nothing.
   */
  private static void requireKeyNotCompromised(Connection connection, Issuance issuance)
      throws SQLException {
    Optional<Revocation> compromise = JdbcStore.findKeyCompromise(connection,
        issuance.keyFingerprint());
    if (compromise.isPresent()) {
      throw compromise.get().denyCompromisedKey("renew", "the key to certify",
          issuance.keyFingerprint(), "rekey with a new key, or enroll again with a new key");
    }
  }

  private static Timestamp timestamp(Instant instant) {
    return instant == null ? null : Timestamp.from(instant);
  }

  /**
   * Describes the existing registration, read on the transaction's own connection after the
   * rollback to the issuance's savepoint: asking the pool for a second connection here could
   * deadlock when every pooled connection is held by a racing enrollment.
   */
  private static PolicyDeniedException alreadyEnrolled(Connection connection,
      Issuance issuance, Savepoint savepoint) throws SQLException {
    connection.rollback(savepoint);
    String since = "";
    try (PreparedStatement statement = prepare(connection, "SELECT first_serial,"
        + " first_enrolled_at FROM registrations WHERE provisioner = ? AND instance_id = ?")) {
      statement.setString(1, issuance.provisioner());
      statement.setString(2, issuance.instanceId());
      try (ResultSet rows = statement.executeQuery()) {
        if (rows.next()) {
          since = " on " + DateTimeFormatter.ISO_INSTANT.format(instant(rows, 2))
              + " (serial " + rows.getString(1) + ")";
        }
      }
    }
    return new PolicyDeniedException(STAGE, "instance " + issuance.instanceId()
        + " already enrolled with provisioner " + issuance.provisioner() + since
        + "; trust on first use allows one enrollment per instance. Renew the existing"
        + " certificate, or ask the CA operator to reset the registration of this instance");
  }

  private static void insertCertificate(Connection connection, Issuance issuance)
      throws SQLException {
    try (PreparedStatement statement = prepare(connection, INSERT_CERTIFICATE)) {
      bindCertificate(statement, issuance);
      statement.executeUpdate();
    }
  }

  private static void bindToken(PreparedStatement statement, Issuance issuance)
      throws SQLException {
    statement.setString(1, issuance.provisioner());
    statement.setString(2, issuance.tokenId());
    statement.setTimestamp(3, Timestamp.from(issuance.tokenExpiry()));
  }

  private static void bindRegistration(PreparedStatement statement, Issuance issuance)
      throws SQLException {
    statement.setString(1, issuance.provisioner());
    statement.setString(2, issuance.instanceId());
    statement.setString(3, issuance.account());
    statement.setTimestamp(4, timestamp(issuance.pendingTime()));
    statement.setString(5, issuance.serial());
    statement.setTimestamp(6, Timestamp.from(issuance.issuedAt()));
    statement.setTimestamp(7, Timestamp.from(issuance.issuedAt()));
  }

  private static void bindCertificate(PreparedStatement statement, Issuance issuance)
      throws SQLException {
    statement.setString(1, issuance.serial());
    statement.setString(2, issuance.provisioner());
    statement.setString(3, issuance.instanceId());
    statement.setString(4, issuance.account());
    statement.setString(5, issuance.subject());
    statement.setString(6, encodeSans(issuance.sans()));
    statement.setTimestamp(7, Timestamp.from(issuance.notBefore()));
    statement.setTimestamp(8, Timestamp.from(issuance.notAfter()));
    statement.setString(9, issuance.keyFingerprint());
    statement.setString(10, issuance.certificatePem());
    statement.setTimestamp(11, Timestamp.from(issuance.issuedAt()));
    statement.setTimestamp(12, Timestamp.from(issuance.attestedAt()));
    statement.setString(13, issuance.renewedFrom());
  }

  /**
   * Encodes names for the sans column: each name followed by a line feed, so that names
   * containing commas, such as quoted email local parts, survive. Policy admits no control
   * characters in names, and a name with a line feed is rejected here.
   */
  static String encodeSans(List<String> sans) {
    StringBuilder text = new StringBuilder();
    for (String name : sans) {
      if (name.indexOf('\n') >= 0) {
        throw new IllegalArgumentException("subject alternative name contains a line feed: "
            + name.replace("\n", "\\n"));
      }
      text.append(name).append('\n');
    }
    return text.toString();
  }
}
