-- Idempotency-Key (core.idempotency): the first answer to a caller's key, replayed to its
-- retries. status IS NULL while the first request runs.
CREATE TABLE idempotency_keys (
    principal   text        NOT NULL,
    key         text        NOT NULL,
    fingerprint bytea       NOT NULL,  -- sha256 of method, path, query and body
    created_at  timestamptz NOT NULL DEFAULT now(),
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    status      integer,
    headers     jsonb,
    body        bytea,
    PRIMARY KEY (principal, key)
);

CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
