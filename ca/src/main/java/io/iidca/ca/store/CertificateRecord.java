package io.iidca.ca.store;

import java.time.Instant;
import java.util.List;

/** A recorded certificate, as the store returns it. */
public record CertificateRecord(
    String serial,
    String provisioner,
    String instanceId,
    String account,
    String subject,
    List<String> sans,
    Instant notBefore,
    Instant notAfter,
    String keyFingerprint,
    String certificatePem,
    Instant issuedAt) {}
