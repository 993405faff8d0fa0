-- name: seat_of
-- How many are in the call, and the caller's place in it (after lock_room).
SELECT (SELECT count(*) FROM room_participants p
        WHERE p.room_id = %(room)s AND p.is_active)::int AS active_count,
       me.is_active AS my_active,
       (me.removed_at IS NOT NULL) AS my_removed
FROM (SELECT 1) AS one
LEFT JOIN room_participants me ON me.room_id = %(room)s AND me.user_id = %(user)s

-- name: take_seat
-- Join the call: a new participant, or one who left coming back (a new session).
INSERT INTO room_participants (room_id, user_id, name)
VALUES (%(room)s, %(user)s, %(name)s)
ON CONFLICT (room_id, user_id) DO UPDATE
SET is_active = true, left_at = NULL, session_started_at = now(), livekit_sid = NULL,
    name = EXCLUDED.name, updated_at = now()
WHERE NOT room_participants.is_active AND room_participants.removed_at IS NULL

-- name: participant
-- One user's place in one room (room_participants_room_user_key).
SELECT id, room_id, user_id, name, joined_at, session_started_at, left_at, is_active,
       livekit_sid, removed_at
FROM room_participants
WHERE room_id = %(room)s AND user_id = %(user)s

-- name: active_participants
-- Who is in the calls of these rooms now, in join order (room_participants_active_idx).
SELECT id, room_id, user_id, name, joined_at, session_started_at, left_at, is_active,
       livekit_sid, removed_at
FROM room_participants
WHERE room_id = ANY(%(rooms)s) AND is_active
ORDER BY room_id, joined_at, id

-- name: leave_seat
-- End the participant's session now; nothing when they were not in the call.
UPDATE room_participants
SET is_active = false, left_at = now(), updated_at = now(),
    connected_seconds = connected_seconds
        + GREATEST(0, extract(epoch FROM now() - session_started_at))::int
WHERE room_id = %(room)s AND user_id = %(user)s AND is_active
RETURNING id

-- name: remove_from_room
-- Someone else takes the participant out: their session ends and they may not come back.
-- Returns whether they were in the call; nothing when they never joined.
UPDATE room_participants p
SET removed_at = now(), updated_at = now(),
    connected_seconds = p.connected_seconds + CASE WHEN old.was_active
        THEN GREATEST(0, extract(epoch FROM now() - p.session_started_at))::int ELSE 0 END,
    left_at = CASE WHEN old.was_active THEN now() ELSE p.left_at END,
    is_active = false
FROM (SELECT id, is_active AS was_active FROM room_participants
      WHERE room_id = %(room)s AND user_id = %(user)s FOR UPDATE) AS old
WHERE p.id = old.id
RETURNING old.was_active

-- name: rooms_of_member
-- The calls in progress of a workspace that a user has a place in.
SELECT p.room_id
FROM room_participants p
JOIN rooms r ON r.id = p.room_id
WHERE p.user_id = %(user)s AND r.workspace_id = %(workspace)s AND r.is_active
ORDER BY p.room_id

-- name: connected
-- LiveKit reports the participant connected (participant_joined): record its session id.
UPDATE room_participants SET livekit_sid = %(sid)s, updated_at = now()
WHERE room_id = %(room)s AND user_id = %(user)s AND is_active

-- name: reconnected
-- A participant who had left is connected again (their token was still valid).
UPDATE room_participants
SET is_active = true, left_at = NULL, session_started_at = now(), livekit_sid = %(sid)s,
    updated_at = now()
WHERE room_id = %(room)s AND user_id = %(user)s AND NOT is_active AND removed_at IS NULL

-- name: stale_participants
-- In the call for the database, but not connected to LiveKit for longer than the grace.
SELECT user_id
FROM room_participants
WHERE room_id = %(room)s AND is_active
  AND session_started_at < now() - make_interval(secs => %(grace)s)
  AND NOT (user_id::text = ANY(%(connected)s))
