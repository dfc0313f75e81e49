-- iidca schema, version 2: renewal, revocation and registration history.

-- When the identity behind a certificate was last proven with a cloud document. A renewal
-- copies it from the certificate it replaces, so a re-attestation horizon can be enforced.
ALTER TABLE certificates ADD COLUMN attested_at TIMESTAMP WITH TIME ZONE;
ALTER TABLE certificates ADD COLUMN renewed_from VARCHAR(64);
UPDATE certificates SET attested_at = issued_at;

ALTER TABLE registrations ADD COLUMN last_enrolled_at TIMESTAMP WITH TIME ZONE;
ALTER TABLE registrations ADD COLUMN enrollments INTEGER DEFAULT 1 NOT NULL;
UPDATE registrations SET last_enrolled_at = first_enrolled_at;

-- Revoked certificates, for renewal checks, the CRL and OCSP. reason_code is the CRLReason of
-- RFC 5280, 5.3.1.
CREATE TABLE revocations (
    serial      VARCHAR(64)   NOT NULL PRIMARY KEY,
    revoked_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    reason_code INTEGER       NOT NULL,
    reason      VARCHAR(1024),
    revoked_by  VARCHAR(255)  NOT NULL
);
