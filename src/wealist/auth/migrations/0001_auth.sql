-- Sessions are refresh-token families (RFC 9700): one row per login. Only the refresh
-- token whose jti is current_jti may be used; presenting an older one revokes the row.
CREATE TABLE sessions (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL,
    email         text,
    method        text NOT NULL,                 -- password | google | <oidc provider> | test
    current_jti   text NOT NULL,
    user_agent    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,          -- absolute; rotation never extends it
    revoked_at    timestamptz,
    revoke_reason text
);
CREATE INDEX sessions_live_by_user ON sessions (user_id, created_at DESC) WHERE revoked_at IS NULL;
CREATE INDEX sessions_recently_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Access tokens revoked one by one (logout); the durable copy of auth:revoked:jti:*.
CREATE TABLE revoked_tokens (
    jti        text PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);

-- Local accounts: argon2id hashes. One account per user and per (case-folded) email.
CREATE TABLE password_accounts (
    user_id       uuid PRIMARY KEY,
    email         text NOT NULL,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX password_accounts_email ON password_accounts (lower(email));

-- OIDC identities: the user key is (issuer, subject), so a changed email keeps the account.
CREATE TABLE identities (
    issuer        text NOT NULL,
    subject       text NOT NULL,
    user_id       uuid NOT NULL,
    email         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject)
);
