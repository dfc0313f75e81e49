-- iidca schema, version 1. Portable between H2 2.x and PostgreSQL 15: uniqueness rules live
-- here, in the database, so that several CA nodes on one database cannot issue twice.

-- Every issued certificate. A certificate is returned to a client only after its row commits.
CREATE TABLE certificates (
    serial          VARCHAR(64)    NOT NULL PRIMARY KEY,
    provisioner     VARCHAR(255)   NOT NULL,
    instance_id     VARCHAR(255)   NOT NULL,
    account         VARCHAR(64)    NOT NULL,
    subject         VARCHAR(1024)  NOT NULL,
    sans            VARCHAR(8192)  NOT NULL,
    not_before      TIMESTAMP WITH TIME ZONE NOT NULL,
    not_after       TIMESTAMP WITH TIME ZONE NOT NULL,
    key_fingerprint VARCHAR(64)    NOT NULL,
    certificate_pem VARCHAR(16384) NOT NULL,
    issued_at       TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX certificates_instance ON certificates (provisioner, instance_id);

-- Trust on first use: one row per provisioner and instance, written in the same transaction
-- as the first certificate, after every check passed.
CREATE TABLE registrations (
    provisioner       VARCHAR(255) NOT NULL,
    instance_id       VARCHAR(255) NOT NULL,
    account           VARCHAR(64)  NOT NULL,
    pending_time      TIMESTAMP WITH TIME ZONE,
    first_serial      VARCHAR(64)  NOT NULL,
    first_enrolled_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (provisioner, instance_id)
);

-- Token ids (jti) seen per provisioner, kept until the token expires.
CREATE TABLE used_tokens (
    provisioner VARCHAR(255) NOT NULL,
    token_id    VARCHAR(255) NOT NULL,
    expires_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (provisioner, token_id)
);
CREATE INDEX used_tokens_expiry ON used_tokens (expires_at);
