-- Call rooms, their participants, call history and transcripts (contract 9), plus the
-- LiveKit webhook events already applied.
--
-- Unlike the original: a room's call history row is written with the room (ended_at NULL
-- while the call runs), so a transcript saved during the call links to it at once; one
-- participant row per (room, user) keeps the time spent in every session; nothing is
-- soft-deleted.
CREATE TABLE rooms (
    id               uuid        PRIMARY KEY,
    name             text        NOT NULL,
    workspace_id     uuid        NOT NULL,
    creator_id       uuid        NOT NULL,
    max_participants integer     NOT NULL DEFAULT 10
                                 CHECK (max_participants BETWEEN 1 AND 100),
    is_active        boolean     NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    ended_at         timestamptz,
    checked_at       timestamptz NOT NULL DEFAULT now(),  -- last compared with LiveKit
    CONSTRAINT rooms_ended_when_inactive CHECK (is_active = (ended_at IS NULL))
);

-- Workspace room lists, newest first (keyset on created_at, id), all or active only.
CREATE INDEX rooms_workspace_idx ON rooms (workspace_id, created_at DESC, id DESC);
CREATE INDEX rooms_workspace_active_idx ON rooms (workspace_id, created_at DESC, id DESC)
    WHERE is_active;
-- The reconciliation sweep: calls in progress, least recently compared with LiveKit first.
CREATE INDEX rooms_active_checked_idx ON rooms (checked_at, id) WHERE is_active;

CREATE TABLE room_participants (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    room_id            uuid        NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id            uuid        NOT NULL,
    name               text        NOT NULL,
    joined_at          timestamptz NOT NULL DEFAULT now(),  -- first join
    session_started_at timestamptz NOT NULL DEFAULT now(),  -- start of the latest session
    left_at            timestamptz,                         -- NULL while in the call
    is_active          boolean     NOT NULL DEFAULT true,
    connected_seconds  integer     NOT NULL DEFAULT 0,      -- ended sessions, summed
    livekit_sid        text,        -- LiveKit's id of the connection it reported last
    removed_at         timestamptz, -- removed by someone else: reconnections are refused
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT room_participants_room_user_key UNIQUE (room_id, user_id),
    CONSTRAINT room_participants_left_when_inactive CHECK (is_active = (left_at IS NULL))
);

CREATE INDEX room_participants_active_idx ON room_participants (room_id, joined_at)
    WHERE is_active;
CREATE INDEX room_participants_user_idx ON room_participants (user_id, room_id);

CREATE TABLE call_histories (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    room_id            uuid        NOT NULL UNIQUE REFERENCES rooms (id) ON DELETE CASCADE,
    room_name          text        NOT NULL,
    workspace_id       uuid        NOT NULL,
    creator_id         uuid        NOT NULL,
    started_at         timestamptz NOT NULL,
    ended_at           timestamptz,           -- NULL while the call runs
    duration_seconds   integer     NOT NULL DEFAULT 0,
    max_participants   integer     NOT NULL,
    total_participants integer     NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL DEFAULT now()
);

-- Workspace history, latest ended first (keyset on ended_at, id).
CREATE INDEX call_histories_workspace_idx ON call_histories (workspace_id, ended_at DESC, id DESC)
    WHERE ended_at IS NOT NULL;

CREATE TABLE call_transcripts (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    call_history_id uuid        NOT NULL UNIQUE REFERENCES call_histories (id) ON DELETE CASCADE,
    room_id         uuid        NOT NULL UNIQUE REFERENCES rooms (id) ON DELETE CASCADE,
    content         text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- LiveKit delivers webhooks at least once: each event id is applied once.
CREATE TABLE livekit_webhook_events (
    id          text        PRIMARY KEY,
    event       text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX livekit_webhook_events_received_idx ON livekit_webhook_events (received_at);
