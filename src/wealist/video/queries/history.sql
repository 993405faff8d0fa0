-- name: history_by_id
SELECT id, room_id, room_name, workspace_id, creator_id, started_at, ended_at,
       duration_seconds, max_participants, total_participants
FROM call_histories
WHERE id = %(id)s

-- name: history_of_room
SELECT id, room_id, room_name, workspace_id, creator_id, started_at, ended_at,
       duration_seconds, max_participants, total_participants
FROM call_histories
WHERE room_id = %(room)s

-- name: count_workspace_history
SELECT count(*) FROM call_histories WHERE workspace_id = %(workspace)s AND ended_at IS NOT NULL

-- name: workspace_history
-- Ended calls of a workspace, latest first, after a keyset position, then an offset
-- (call_histories_workspace_idx).
SELECT id, room_id, room_name, workspace_id, creator_id, started_at, ended_at,
       duration_seconds, max_participants, total_participants
FROM call_histories
WHERE workspace_id = %(workspace)s AND ended_at IS NOT NULL
  AND (ended_at, id) < (%(at)s, %(id)s)
ORDER BY ended_at DESC, id DESC
LIMIT %(limit)s OFFSET %(offset)s

-- name: count_my_history
SELECT count(*)
FROM room_participants p
JOIN call_histories h ON h.room_id = p.room_id
WHERE p.user_id = %(user)s AND h.ended_at IS NOT NULL

-- name: my_history
-- Ended calls the user took part in, latest first (room_participants_user_idx, then the
-- history of each room).
SELECT h.id, h.room_id, h.room_name, h.workspace_id, h.creator_id, h.started_at, h.ended_at,
       h.duration_seconds, h.max_participants, h.total_participants
FROM room_participants p
JOIN call_histories h ON h.room_id = p.room_id
WHERE p.user_id = %(user)s AND h.ended_at IS NOT NULL
  AND (h.ended_at, h.id) < (%(at)s, %(id)s)
ORDER BY h.ended_at DESC, h.id DESC
LIMIT %(limit)s OFFSET %(offset)s

-- name: history_participants
-- Everyone who took part in these calls, with the time they spent in them.
SELECT room_id, user_id, name, joined_at, COALESCE(left_at, now()) AS left_at,
       connected_seconds AS duration_seconds
FROM room_participants
WHERE room_id = ANY(%(rooms)s)
ORDER BY room_id, joined_at, id

-- name: save_transcript
-- The room's transcript, replaced by the latest save; linked to the room's call history.
INSERT INTO call_transcripts (call_history_id, room_id, content)
SELECT h.id, h.room_id, %(content)s FROM call_histories h WHERE h.room_id = %(room)s
ON CONFLICT (room_id) DO UPDATE SET content = EXCLUDED.content, updated_at = now()
RETURNING id, call_history_id, room_id, content, created_at, updated_at

-- name: transcript_of_history
SELECT id, call_history_id, room_id, content, created_at, updated_at
FROM call_transcripts
WHERE call_history_id = %(history)s
