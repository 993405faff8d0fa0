-- The ops portal (contract 10): who may use it and with which role, the append-only log
-- of what they did, and the app configs / feature flags clients read.
--
-- Unlike the original: no user becomes admin by logging in first (the first admins come
-- from WEALIST_OPS_ADMIN_EMAILS); a portal user is bound to the wealist account that first
-- signs in with its email; the audit log refuses UPDATE, DELETE and TRUNCATE; a deleted
-- config key can be created again.
CREATE TABLE portal_users (
    id            uuid        PRIMARY KEY,
    email         text        NOT NULL,
    name          text        NOT NULL DEFAULT '',
    picture       text        NOT NULL DEFAULT '',
    role          text        NOT NULL CHECK (role IN ('admin', 'pm', 'viewer')),
    is_active     boolean     NOT NULL DEFAULT true,
    user_id       uuid,       -- the wealist account bound at first sign-in
    last_login_at timestamptz,
    invited_by    uuid        REFERENCES portal_users (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT portal_users_email_lower CHECK (email = lower(email))
);

-- Every request looks its caller up by email; admins list users newest first.
CREATE UNIQUE INDEX portal_users_email_key ON portal_users (email);
CREATE UNIQUE INDEX portal_users_user_id_key ON portal_users (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX portal_users_created_idx ON portal_users (created_at DESC, id DESC);
-- The last-admin check locks the active admins.
CREATE INDEX portal_users_admins_idx ON portal_users (id) WHERE role = 'admin' AND is_active;

CREATE TABLE audit_logs (
    id            uuid        PRIMARY KEY,
    user_id       uuid        NOT NULL,  -- the portal user who acted
    user_email    text        NOT NULL,
    action        text        NOT NULL
                              CHECK (action IN ('create', 'update', 'delete', 'login', 'logout')),
    resource_type text        NOT NULL
                              CHECK (resource_type IN ('portal_user', 'argocd_rbac',
                                                       'feature_flag', 'app_config')),
    resource_id   text        NOT NULL,
    details       text        NOT NULL DEFAULT '',
    ip_address    text        NOT NULL DEFAULT '',
    user_agent    text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Newest first, whole log or filtered by who acted (keyset on created_at, id).
CREATE INDEX audit_logs_created_idx ON audit_logs (created_at DESC, id DESC);
CREATE INDEX audit_logs_user_idx ON audit_logs (user_id, created_at DESC, id DESC);

-- Append-only: a row, once written, is never changed or removed (not even by the service).
CREATE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_logs is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_logs_no_update_delete BEFORE UPDATE OR DELETE ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only();
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_append_only();

CREATE TABLE app_configs (
    id          uuid        PRIMARY KEY,
    key         text        NOT NULL,
    value       text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    is_active   boolean     NOT NULL DEFAULT true,
    updated_by  uuid        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);

-- One live row per key; the public read of active configs.
CREATE UNIQUE INDEX app_configs_key_key ON app_configs (key) WHERE deleted_at IS NULL;
CREATE INDEX app_configs_active_idx ON app_configs (key) WHERE deleted_at IS NULL AND is_active;
