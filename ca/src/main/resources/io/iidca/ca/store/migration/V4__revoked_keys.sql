-- iidca schema, version 4: the key of each revoked certificate. Portable between H2 2.x and
-- PostgreSQL 15, like versions 1 to 3.

-- The SHA-256 of the revoked certificate's SubjectPublicKeyInfo, as in
-- certificates.key_fingerprint. Once a certificate is revoked for keyCompromise, the CA
-- certifies its key no more, and the index finds such a key with one lookup. It indexes the
-- small revocations table, so issuances, which write only certificates, do not maintain it.
-- NULL only where a revocation has no certificate row.
ALTER TABLE revocations ADD COLUMN key_fingerprint VARCHAR(64);
UPDATE revocations SET key_fingerprint = (SELECT certificates.key_fingerprint
    FROM certificates WHERE certificates.serial = revocations.serial);
CREATE INDEX revocations_key ON revocations (key_fingerprint);
