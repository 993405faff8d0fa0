-- Boards (tasks, contract 5.2) and their participants (5.4).
-- custom_fields maps a field type to an option *value* of the board's project, so the
-- customFields filter compares what clients send. rank orders the cards of a project
-- (one order; each column shows its cards in it); byte order, see wealist.board.ranks.
-- The rank is unique per project, checked at commit so a renumbering can rewrite them all.
CREATE TABLE boards (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id    uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    author_id     uuid        NOT NULL,
    assignee_id   uuid,
    title         text        NOT NULL,
    content       text        NOT NULL DEFAULT '',
    custom_fields jsonb       NOT NULL DEFAULT '{}'::jsonb,
    rank          text        COLLATE "C" NOT NULL,
    start_date    timestamptz,
    due_date      timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT boards_dates_ordered CHECK (start_date IS NULL OR due_date IS NULL
                                           OR start_date <= due_date),
    CONSTRAINT boards_project_rank_key UNIQUE (project_id, rank) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX boards_assignee_idx ON boards (assignee_id) WHERE assignee_id IS NOT NULL;
CREATE INDEX boards_due_idx ON boards (due_date) WHERE due_date IS NOT NULL;

CREATE TABLE participants (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    board_id   uuid        NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT participants_board_user_key UNIQUE (board_id, user_id)
);

CREATE INDEX participants_user_idx ON participants (user_id);
