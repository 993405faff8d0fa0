-- Users (contract 4.5). Emails are unique case-insensitively through the index on
-- lower(email), which also serves every lookup by email and is the ON CONFLICT target of
-- the internal login upsert. Soft-deleted rows keep their email: a deleted account's
-- address cannot be taken by a new account.
CREATE TABLE users (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email       text        NOT NULL,
    name        text        NOT NULL DEFAULT '',
    google_id   text        UNIQUE,
    provider    text        NOT NULL DEFAULT 'google',
    is_active   boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);

CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- The system user (author of automated content). Idempotent for databases seeded by hand.
INSERT INTO users (id, email, name, provider)
VALUES ('00000000-0000-0000-0000-000000000001', 'system@wealist.internal', 'System', 'system')
ON CONFLICT DO NOTHING;
