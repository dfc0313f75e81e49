package io.iidca.ca.store;

import java.time.Instant;

/** An instance registered by trust on first use. */
public record Registration(
    String provisioner,
    String instanceId,
    String account,
    Instant pendingTime,
    String firstSerial,
    Instant firstEnrolledAt) {}
