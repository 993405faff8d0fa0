-- name: try_retention_lock
-- One retention round at a time across replicas (released at the end of the transaction).
SELECT pg_try_advisory_xact_lock(hashtext('wealist.noti.retention'))

-- name: purge_old
-- Delete one batch of read (or never shown) notifications older than the retention age,
-- unless an email still waits for them; returns each user's highest deleted seq
-- (notifications_retention_idx).
WITH doomed AS (
    SELECT id FROM notifications
    WHERE (is_read OR NOT in_app) AND email_state <> 'pending'
      AND created_at < now() - make_interval(days => %(days)s)
    ORDER BY created_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
),
gone AS (
    DELETE FROM notifications n USING doomed WHERE n.id = doomed.id
    RETURNING n.target_user_id, n.seq
)
SELECT target_user_id AS user_id, coalesce(max(seq), 0) AS max_seq, count(*) AS deleted
FROM gone GROUP BY target_user_id ORDER BY target_user_id

-- name: lock_streams
-- Lock stream rows in user order before updating several (inserts lock in that order).
SELECT user_id FROM notification_streams
WHERE user_id = ANY(%(users)s::uuid[]) ORDER BY user_id FOR UPDATE

-- name: mark_purged
-- Remember the highest purged seq per user: resuming from before it needs a reset.
UPDATE notification_streams s SET purged_seq = greatest(s.purged_seq, p.max_seq)
FROM unnest(%(users)s::uuid[], %(seqs)s::bigint[]) AS p(user_id, max_seq)
WHERE s.user_id = p.user_id

-- name: prune_inbox
-- Forget consumed event ids older than the dedupe window, a batch at a time
-- (inbox_received_idx).
DELETE FROM inbox WHERE event_id IN (
    SELECT event_id FROM inbox
    WHERE received_at < now() - make_interval(days => %(days)s)
    LIMIT %(limit)s
)
