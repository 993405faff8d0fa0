-- Comments (contract 5.3), attachments (5.5), the live board's event log (5.7, resumable by
-- a per-project sequence), the activity history, task search, and due-date reminders.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The last sequence number handed to an event of the project; bumped under the project
-- row's lock, so sequence numbers are gapless and in commit order.
ALTER TABLE projects ADD COLUMN event_seq bigint NOT NULL DEFAULT 0;

-- version: bumped by every change of the board (optimistic concurrency, If-Match).
-- due_soon_for / overdue_for: the due date a reminder was sent for (once per due date).
ALTER TABLE boards
    ADD COLUMN version      integer     NOT NULL DEFAULT 1,
    ADD COLUMN due_soon_for timestamptz,
    ADD COLUMN overdue_for  timestamptz;

-- Substring search over titles and contents (Korean included: ILIKE rechecks every hit).
CREATE INDEX boards_title_trgm_idx ON boards USING gin (title gin_trgm_ops);
CREATE INDEX boards_content_trgm_idx ON boards USING gin (content gin_trgm_ops);
CREATE INDEX projects_name_trgm_idx ON projects USING gin (name gin_trgm_ops);

CREATE TABLE comments (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    board_id   uuid        NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL,
    content    text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX comments_board_idx ON comments (board_id, created_at, id);

-- One row per uploaded file. TEMP until an entity confirms it (then project_id/board_id say
-- whose it is, so deleting a project, board or comment finds its files); DELETED rows and
-- expired TEMP rows are purged by the cleanup job, object first.
CREATE TABLE attachments (
    id           uuid        PRIMARY KEY,
    workspace_id uuid        NOT NULL,
    entity_type  text        NOT NULL CHECK (entity_type IN ('BOARD', 'COMMENT', 'PROJECT')),
    entity_id    uuid,
    project_id   uuid,
    board_id     uuid,
    status       text        NOT NULL DEFAULT 'TEMP'
                             CHECK (status IN ('TEMP', 'CONFIRMED', 'DELETED')),
    file_key     text        NOT NULL UNIQUE,
    file_name    text        NOT NULL,
    file_size    bigint      NOT NULL CHECK (file_size > 0),
    content_type text        NOT NULL,
    uploaded_by  uuid        NOT NULL,
    expires_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT attachments_confirmed_has_owner CHECK (status <> 'CONFIRMED' OR entity_id IS NOT NULL)
);

CREATE INDEX attachments_entity_idx ON attachments (entity_id, created_at)
    WHERE status = 'CONFIRMED';
CREATE INDEX attachments_project_idx ON attachments (project_id) WHERE project_id IS NOT NULL;
CREATE INDEX attachments_board_idx ON attachments (board_id) WHERE board_id IS NOT NULL;
CREATE INDEX attachments_due_idx ON attachments (expires_at) WHERE status <> 'CONFIRMED';
CREATE INDEX attachments_uploader_temp_idx ON attachments (uploaded_by) WHERE status = 'TEMP';

-- What the project's sockets were sent, by sequence number: a socket that reconnects with
-- ?after=<seq> is replayed from here. No foreign key: a deleted project's last event stays
-- resumable until it ages out.
CREATE TABLE board_events (
    project_id uuid        NOT NULL,
    seq        bigint      NOT NULL,
    frame      text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, seq)
);

CREATE INDEX board_events_created_idx ON board_events (created_at);

-- Who changed what on a board, old -> new (GET /api/boards/{id}/activity).
CREATE TABLE board_activity (
    id         bigserial   PRIMARY KEY,
    board_id   uuid        NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    actor_id   uuid        NOT NULL,
    action     text        NOT NULL,
    changes    jsonb       NOT NULL DEFAULT '[]'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX board_activity_board_idx ON board_activity (board_id, id DESC);

-- The reminder scan: boards with a due date that has not been reminded for yet.
CREATE INDEX boards_due_pending_idx ON boards (due_date)
    WHERE due_date IS NOT NULL AND (overdue_for IS DISTINCT FROM due_date);

-- A board as the API shows it: the board, its project's workspace, its participants and its
-- confirmed attachments (JSON, decoded once in Python). Every read of boards selects from
-- here, so the shape is written once.
CREATE VIEW board_view AS
SELECT b.id, b.project_id, p.workspace_id, b.author_id, b.assignee_id, b.title, b.content,
       b.custom_fields::text AS custom_fields, b.rank, b.version, b.start_date, b.due_date,
       b.created_at, b.updated_at,
       coalesce((SELECT array_agg(pa.user_id ORDER BY pa.created_at, pa.user_id)
                 FROM participants pa WHERE pa.board_id = b.id), '{}') AS participant_ids,
       (SELECT coalesce(json_agg(a.* ORDER BY a.created_at, a.id), '[]')::text
        FROM (SELECT id, file_name, file_key, file_size, content_type, uploaded_by, created_at
              FROM attachments
              WHERE entity_id = b.id AND entity_type = 'BOARD' AND status = 'CONFIRMED') a
       ) AS attachments
FROM boards b
JOIN projects p ON p.id = b.project_id;
