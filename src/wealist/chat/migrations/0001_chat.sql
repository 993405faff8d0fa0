-- Chats, participants with read cursors, messages with a gapless per-chat seq, reactions
-- (contract 6.4, extended). Unlike the original: one participant row per (chat, user),
-- reactivated on re-join; a DM is unique per workspace and pair; a message's seq comes
-- from its chat's counter row (UPDATE ... RETURNING, inside the insert transaction), so
-- seqs have no gaps and one total order per chat; a client's retried send is recognized
-- by (chat, author, client_message_id).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE chats (
    id           uuid        PRIMARY KEY,
    workspace_id uuid        NOT NULL,
    project_id   uuid,
    chat_type    text        NOT NULL CHECK (chat_type IN ('DM', 'GROUP', 'PROJECT')),
    chat_name    text        NOT NULL,
    created_by   uuid        NOT NULL,
    dm_key       text,        -- "<smaller user id>:<larger user id>" for a DM, else NULL
    last_seq     bigint      NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz
);

CREATE INDEX chats_workspace_idx ON chats (workspace_id, updated_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX chats_one_dm_per_pair ON chats (workspace_id, dm_key)
    WHERE dm_key IS NOT NULL AND deleted_at IS NULL;

CREATE TABLE chat_participants (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    chat_id       uuid        NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id       uuid        NOT NULL,
    joined_at     timestamptz NOT NULL DEFAULT now(),
    last_read_at  timestamptz,
    last_read_seq bigint      NOT NULL DEFAULT 0,
    is_active     boolean     NOT NULL DEFAULT true,
    CONSTRAINT chat_participants_chat_user_key UNIQUE (chat_id, user_id)
);

CREATE INDEX chat_participants_user_idx ON chat_participants (user_id, chat_id) WHERE is_active;

CREATE TABLE messages (
    id                uuid        PRIMARY KEY,
    chat_id           uuid        NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    seq               bigint      NOT NULL,
    user_id           uuid        NOT NULL,
    content           text        NOT NULL DEFAULT '',
    message_type      text        NOT NULL DEFAULT 'TEXT'
                                  CHECK (message_type IN ('TEXT', 'IMAGE', 'FILE')),
    file_url          text,
    file_name         text,
    file_size         bigint,
    client_message_id text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    deleted_at        timestamptz,
    CONSTRAINT messages_chat_seq_key UNIQUE (chat_id, seq)
);

-- A retried send finds the original here (T07).
CREATE UNIQUE INDEX messages_client_message_key ON messages (chat_id, user_id, client_message_id)
    WHERE client_message_id IS NOT NULL;
-- Substring search (Korean included) within the caller's chats.
CREATE INDEX messages_content_trgm ON messages USING gin (content gin_trgm_ops)
    WHERE deleted_at IS NULL;

CREATE TABLE message_reactions (
    message_id uuid        NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL,
    emoji      text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, user_id, emoji)
);
