-- name: append_event
-- The project's next sequence number and the frame carrying it, stored in one statement:
-- the frame is '{"seq":<n>,' followed by the rest of the encoded event.
WITH bumped AS (
    UPDATE projects SET event_seq = event_seq + 1 WHERE id = %(project)s RETURNING event_seq
)
INSERT INTO board_events (project_id, seq, frame)
SELECT %(project)s, event_seq, '{"seq":' || event_seq || ',' || %(rest)s FROM bumped
RETURNING frame

-- name: events_after
-- What a resuming socket missed, in order (bounded: a larger gap is answered with reset).
SELECT frame FROM board_events
WHERE project_id = %(project)s AND seq > %(after)s
  AND (%(upto)s::bigint IS NULL OR seq <= %(upto)s)
ORDER BY seq
LIMIT %(limit)s

-- name: event_bounds
-- The project's last sequence number and the oldest one still in the log.
SELECT p.event_seq AS last,
       (SELECT min(seq) FROM board_events e WHERE e.project_id = p.id) AS oldest
FROM projects p WHERE p.id = %(project)s

-- name: prune_events
DELETE FROM board_events WHERE created_at < now() - make_interval(secs => %(age)s)
