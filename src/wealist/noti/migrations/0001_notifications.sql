-- Stored notifications (contract 7.3), their per-user stream positions, preferences and
-- the addresses digests go to.

-- One row per accepted notification. ``seq`` is the notification's place in its target
-- user's stream (the SSE ``id:``): gapless per user and assigned in the inserting
-- transaction under the user's notification_streams row lock, so seq order is commit
-- order. Rows the user's preferences keep out of the app (``in_app`` false) have no seq:
-- they exist only for the email digest and are never listed, counted or streamed.
CREATE TABLE notifications (
    id              uuid        PRIMARY KEY,
    target_user_id  uuid        NOT NULL,
    seq             bigint,
    event_id        uuid        UNIQUE,        -- the producer's event id (idempotency)
    type            text        NOT NULL,
    actor_id        uuid        NOT NULL,
    workspace_id    uuid        NOT NULL,
    resource_type   text        NOT NULL,
    resource_id     uuid        NOT NULL,
    resource_name   text,
    metadata        jsonb,
    in_app          boolean     NOT NULL DEFAULT true,
    is_read         boolean     NOT NULL DEFAULT false,
    read_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- none: no email wanted; pending: waits for the user's next digest; sent; skipped
    -- (read before the digest went out, or no address to send to).
    email_state     text        NOT NULL DEFAULT 'none'
        CHECK (email_state IN ('none', 'pending', 'sent', 'skipped')),
    emailed_at      timestamptz,
    CHECK ((seq IS NULL) = (NOT in_app))
);

-- The list: one user's notifications of one workspace, newest first (keyset on
-- created_at, id).
CREATE INDEX notifications_list_idx
    ON notifications (target_user_id, workspace_id, created_at DESC, id DESC) WHERE in_app;
-- Replay after a reconnection: one user's stream from a position.
CREATE UNIQUE INDEX notifications_stream_idx ON notifications (target_user_id, seq) WHERE in_app;
-- The unread count and read-all.
CREATE INDEX notifications_unread_idx
    ON notifications (target_user_id, workspace_id) WHERE in_app AND NOT is_read;
-- The digest job: users with notifications waiting for an email.
CREATE INDEX notifications_digest_idx
    ON notifications (target_user_id, created_at) WHERE email_state = 'pending';
-- The retention job: read (or never shown) notifications by age.
CREATE INDEX notifications_retention_idx
    ON notifications (created_at) WHERE is_read OR NOT in_app;
-- Workspace clean-up when a workspace is deleted.
CREATE INDEX notifications_workspace_idx ON notifications (workspace_id);

-- Each user's stream: the last seq handed out, and the highest seq the retention job has
-- deleted (a client resuming from before it gets a ``reset`` event).
CREATE TABLE notification_streams (
    user_id     uuid    PRIMARY KEY,
    last_seq    bigint  NOT NULL DEFAULT 0,
    purged_seq  bigint  NOT NULL DEFAULT 0
);

-- Preferences per user, type and channel; ``workspace_id`` NULL applies to every
-- workspace, a workspace's row overrides it channel by channel (NULL: inherit).
-- Without any row a type is shown in the app and not emailed.
CREATE TABLE notification_preferences (
    user_id       uuid        NOT NULL,
    workspace_id  uuid,
    type          text        NOT NULL,
    in_app        boolean,
    email         boolean,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX notification_preferences_key ON notification_preferences
    (user_id, coalesce(workspace_id, '00000000-0000-0000-0000-000000000000'::uuid), type);

-- Where a user's digests go: the verified email of the token that opted in.
CREATE TABLE email_recipients (
    user_id     uuid        PRIMARY KEY,
    email       text        NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The shared inbox (consumed event ids) is pruned by age by the retention job.
CREATE INDEX inbox_received_idx ON inbox (received_at);
