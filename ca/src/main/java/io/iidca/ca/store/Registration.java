package io.iidca.ca.store;

import java.time.Instant;

/**
 * An instance registered by trust on first use.
 *
 * @param pendingTime the instance's start time at its last enrollment
 * @param enrollments how many enrollments the registration allowed, first included
 */
public record Registration(
    String provisioner,
    String instanceId,
    String account,
    Instant pendingTime,
    String firstSerial,
    Instant firstEnrolledAt,
    Instant lastEnrolledAt,
    int enrollments) {

  /** A registration after its first and only enrollment. */
  public Registration(String provisioner, String instanceId, String account, Instant pendingTime,
      String firstSerial, Instant firstEnrolledAt) {
    this(provisioner, instanceId, account, pendingTime, firstSerial, firstEnrolledAt,
        firstEnrolledAt, 1);
  }
}
