-- name: due_digests
-- Users whose first pending notification has waited a whole window
-- (notifications_digest_idx).
SELECT target_user_id FROM notifications
WHERE email_state = 'pending'
GROUP BY target_user_id
HAVING min(created_at) <= now() - make_interval(secs => %(window_s)s)
ORDER BY min(created_at)
LIMIT %(limit)s

-- name: claim_digest
-- One user's pending notifications, oldest first, locked for this sender; another
-- replica's sender skips them (and the user) until this transaction ends.
SELECT id, type, workspace_id, resource_type, resource_name, is_read, created_at
FROM notifications
WHERE target_user_id = %(user)s AND email_state = 'pending'
ORDER BY created_at, id
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED

-- name: finish_digest
-- Mark claimed notifications sent (those in the email) or skipped (the rest).
UPDATE notifications
SET email_state = CASE WHEN id = ANY(%(sent)s::uuid[]) THEN 'sent' ELSE 'skipped' END,
    emailed_at = now()
WHERE id = ANY(%(ids)s::uuid[])
