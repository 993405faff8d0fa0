-- name: append_event
-- The chat's next rev and the frame carrying it, stored in one statement (the frame is
-- '{"rev":<n>,' followed by the rest of the encoded event). The chat's row stays locked
-- until commit, so revs are gapless and in commit order.
WITH bumped AS (
    UPDATE chats SET last_rev = last_rev + 1 WHERE id = %(chat)s RETURNING last_rev
)
INSERT INTO chat_events (chat_id, rev, frame)
SELECT %(chat)s, last_rev, '{"rev":' || last_rev || ',' || %(rest)s FROM bumped
RETURNING frame

-- name: store_event
-- An event whose rev was taken already (a new message takes its seq and rev together).
INSERT INTO chat_events (chat_id, rev, frame) VALUES (%(chat)s, %(rev)s, %(frame)s)

-- name: events_after
-- What a socket missed, in order (bounded: a larger gap is answered with RESET).
SELECT rev, frame FROM chat_events
WHERE chat_id = %(chat)s AND rev > %(after)s AND rev <= %(upto)s
ORDER BY rev
LIMIT %(limit)s

-- name: chat_tail
-- A live chat's newest seq and rev, read together (one snapshot: every event up to that
-- rev, and every message up to that seq, has committed).
SELECT last_seq, last_rev FROM chats WHERE id = %(chat)s AND deleted_at IS NULL

-- name: rev_of_seq
-- Where ``?after=<seq>`` resumes: the rev that announced message ``seq``.
SELECT rev FROM messages WHERE chat_id = %(chat)s AND seq = %(seq)s

-- name: prune_events
DELETE FROM chat_events WHERE created_at < now() - make_interval(secs => %(age)s)
