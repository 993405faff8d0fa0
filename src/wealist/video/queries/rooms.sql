-- name: insert_room
-- The room and its call history row (ended_at NULL while the call runs), in one statement.
WITH room AS (
    INSERT INTO rooms (id, name, workspace_id, creator_id, max_participants)
    VALUES (%(id)s, %(name)s, %(workspace)s, %(creator)s, %(max)s)
    RETURNING *
), history AS (
    INSERT INTO call_histories (room_id, room_name, workspace_id, creator_id, started_at,
                                max_participants)
    SELECT id, name, workspace_id, creator_id, created_at, max_participants FROM room
)
SELECT id, name, workspace_id, creator_id, max_participants, is_active, created_at,
       updated_at, ended_at, 0 AS active_count
FROM room

-- name: room_by_id
-- One room and how many are in the call (primary key, then room_participants_active_idx).
SELECT r.id, r.name, r.workspace_id, r.creator_id, r.max_participants, r.is_active,
       r.created_at, r.updated_at, r.ended_at,
       (SELECT count(*) FROM room_participants p
        WHERE p.room_id = r.id AND p.is_active)::int AS active_count
FROM rooms r
WHERE r.id = %(id)s

-- name: lock_room
-- The room, locked until the transaction ends: joins, leaves and ends of one room take
-- turns. Counts are read by the next statement, whose snapshot starts after the lock.
SELECT id, name, workspace_id, creator_id, max_participants, is_active, created_at,
       updated_at, ended_at, 0 AS active_count
FROM rooms
WHERE id = %(id)s
FOR UPDATE

-- name: workspace_rooms
-- A workspace's rooms, newest first, after a keyset position (rooms_workspace_idx).
SELECT r.id, r.name, r.workspace_id, r.creator_id, r.max_participants, r.is_active,
       r.created_at, r.updated_at, r.ended_at,
       (SELECT count(*) FROM room_participants p
        WHERE p.room_id = r.id AND p.is_active)::int AS active_count
FROM rooms r
WHERE r.workspace_id = %(workspace)s AND (r.created_at, r.id) < (%(at)s, %(id)s)
ORDER BY r.created_at DESC, r.id DESC
LIMIT %(limit)s

-- name: workspace_active_rooms
-- The same, calls in progress only (rooms_workspace_active_idx).
SELECT r.id, r.name, r.workspace_id, r.creator_id, r.max_participants, r.is_active,
       r.created_at, r.updated_at, r.ended_at,
       (SELECT count(*) FROM room_participants p
        WHERE p.room_id = r.id AND p.is_active)::int AS active_count
FROM rooms r
WHERE r.workspace_id = %(workspace)s AND r.is_active
  AND (r.created_at, r.id) < (%(at)s, %(id)s)
ORDER BY r.created_at DESC, r.id DESC
LIMIT %(limit)s

-- name: active_rooms_of_workspace
-- Every call in progress in a workspace (a deleted workspace ends them all).
SELECT id FROM rooms WHERE workspace_id = %(workspace)s AND is_active ORDER BY id

-- name: active_rooms_to_check
-- Calls in progress old enough to compare with LiveKit, least recently checked first
-- (rooms_active_checked_idx).
SELECT id FROM rooms
WHERE is_active AND created_at < now() - make_interval(secs => %(grace)s)
ORDER BY checked_at, id
LIMIT %(limit)s

-- name: mark_checked
UPDATE rooms SET checked_at = now() WHERE id = %(id)s

-- name: end_room
-- Close the call: everyone still in it leaves now, the room ends, its history is written.
-- Returns the call's length and how many sessions it closed; nothing when it had ended.
WITH closed AS (
    UPDATE room_participants
    SET is_active = false, left_at = now(), updated_at = now(),
        connected_seconds = connected_seconds
            + GREATEST(0, extract(epoch FROM now() - session_started_at))::int
    WHERE room_id = %(id)s AND is_active
    RETURNING 1
), ended AS (
    UPDATE rooms SET is_active = false, ended_at = now(), updated_at = now()
    WHERE id = %(id)s AND is_active
    RETURNING id, created_at, ended_at
)
UPDATE call_histories h
SET ended_at = ended.ended_at,
    duration_seconds = GREATEST(0, extract(epoch FROM ended.ended_at - ended.created_at))::int,
    total_participants = (SELECT count(*) FROM room_participants p WHERE p.room_id = ended.id)
FROM ended
WHERE h.room_id = ended.id
RETURNING h.duration_seconds, (SELECT count(*) FROM closed)::int AS closed

-- name: end_room_if_empty
-- The same once nobody is left in the call (the caller holds the room lock).
WITH ended AS (
    UPDATE rooms SET is_active = false, ended_at = now(), updated_at = now()
    WHERE id = %(id)s AND is_active
      AND NOT EXISTS (SELECT 1 FROM room_participants p WHERE p.room_id = %(id)s AND p.is_active)
    RETURNING id, created_at, ended_at
)
UPDATE call_histories h
SET ended_at = ended.ended_at,
    duration_seconds = GREATEST(0, extract(epoch FROM ended.ended_at - ended.created_at))::int,
    total_participants = (SELECT count(*) FROM room_participants p WHERE p.room_id = ended.id)
FROM ended
WHERE h.room_id = ended.id
RETURNING h.duration_seconds, 0 AS closed
