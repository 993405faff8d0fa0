-- name: stream_head
-- Where a user's stream stands: the last seq handed out and the highest one purged.
SELECT last_seq, purged_seq FROM notification_streams WHERE user_id = %(user)s

-- name: stream_heads
-- Where the streams of several users stand (the tail check of a process's open streams).
SELECT user_id, last_seq FROM notification_streams WHERE user_id = ANY(%(users)s)

-- name: replay
-- What a stream missed after ``after``, oldest first, with the stream's head read in the
-- same snapshot: every seq up to the head is committed and visible to this statement,
-- so a page shorter than the limit means the stream is complete up to the head.
-- One row with null notification columns when nothing is due (notifications_stream_idx).
WITH head AS (
    SELECT coalesce(max(last_seq), 0) AS head, coalesce(max(purged_seq), 0) AS purged
    FROM notification_streams WHERE user_id = %(user)s
)
SELECT head.head, head.purged, n.id, n.target_user_id, n.seq, n.type, n.actor_id,
       n.workspace_id, n.resource_type, n.resource_id, n.resource_name, n.metadata,
       n.is_read, n.read_at, n.created_at
FROM head
LEFT JOIN LATERAL (
    SELECT * FROM notifications
    WHERE target_user_id = %(user)s AND in_app AND seq > %(after)s
      AND (%(workspace)s::uuid IS NULL OR workspace_id = %(workspace)s::uuid)
    ORDER BY seq
    LIMIT %(limit)s
) n ON true
ORDER BY n.seq
