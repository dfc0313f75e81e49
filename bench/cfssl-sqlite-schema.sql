-- The certificate store that `cfssl serve -db-config` writes to, for SQLite.
--
-- Debian's golang-cfssl (1.2.0+git20160825) ships no migration files. This schema is written
-- from the column names that cfssl's certdb package declares in certdb/certdb.go (the struct
-- tags of CertificateRecord and OCSPRecord) and from the INSERT statements of certdb/sql. Both
-- files are in Debian's golang-github-cloudflare-cfssl-dev package under /usr/share/gocode. A
-- certificate is keyed by serial number and authority key identifier, as its SELECT and UPDATE
-- statements look it up.
CREATE TABLE certificates (
  serial_number            TEXT NOT NULL,
  authority_key_identifier TEXT NOT NULL,
  ca_label                 TEXT,
  status                   TEXT NOT NULL,
  reason                   INTEGER,
  expiry                   TIMESTAMP,
  revoked_at               TIMESTAMP,
  pem                      TEXT NOT NULL,
  PRIMARY KEY (serial_number, authority_key_identifier)
);

CREATE TABLE ocsp_responses (
  serial_number            TEXT NOT NULL,
  authority_key_identifier TEXT NOT NULL,
  body                     TEXT NOT NULL,
  expiry                   TIMESTAMP,
  PRIMARY KEY (serial_number, authority_key_identifier)
);
