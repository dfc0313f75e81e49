-- iidca schema, version 3: nonces that the CA issues for Azure attested documents. Portable
-- between H2 2.x and PostgreSQL 15, like versions 1 and 2.

-- One row per issued, unused nonce. Consuming a nonce deletes its row, so the database decides
-- which of two racing CA nodes gets it.
CREATE TABLE azure_nonces (
    provisioner VARCHAR(255) NOT NULL,
    nonce       VARCHAR(32)  NOT NULL,
    expires_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (provisioner, nonce)
);
CREATE INDEX azure_nonces_expiry ON azure_nonces (expires_at);
