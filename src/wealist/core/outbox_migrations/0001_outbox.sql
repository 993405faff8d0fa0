-- Events written in the same transaction as the change they describe; a relay delivers
-- them at least once and marks them delivered.
CREATE TABLE outbox (
    id              bigserial   PRIMARY KEY,
    event_id        uuid        NOT NULL UNIQUE,
    event_type      text        NOT NULL,
    payload         jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    last_error      text
);

-- The relay's scan: pending rows that are due, oldest first.
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at, id) WHERE delivered_at IS NULL;

-- Event ids a consumer has already applied: at-least-once in, exactly-once effect.
CREATE TABLE inbox (
    event_id    uuid        PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now()
);
