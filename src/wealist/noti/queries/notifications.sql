-- name: claim_events
-- Record producer event ids as applied; returns the ids seen for the first time. A
-- concurrent transaction claiming the same id waits on the primary key until this one
-- ends, then sees it claimed.
INSERT INTO inbox (event_id)
SELECT DISTINCT unnest(%(ids)b::uuid[])
ON CONFLICT DO NOTHING
RETURNING event_id

-- name: insert_notifications
-- Create notifications (one or a bulk batch) in one round trip. Each item's channels
-- come from the target's preferences (the workspace's row, then the global one, then
-- the default: in-app on, email off). Items shown in the app get the next seqs of their
-- target's stream: the stream row is bumped by how many each target gets, locking the
-- rows in user order (no deadlock between two batches), and holding the lock until
-- commit, so a user's seqs commit in order. Items whose event id already has a
-- notification are left out.
WITH item AS (
    SELECT t.*
    FROM unnest(
        %(ids)b::uuid[], %(event_ids)b::uuid[], %(types)b::text[], %(actors)b::uuid[],
        %(targets)b::uuid[], %(workspaces)b::uuid[], %(resource_types)b::text[],
        %(resource_ids)b::uuid[], %(resource_names)b::text[], %(metadata)b::text[],
        %(occurred)b::timestamptz[]
    ) WITH ORDINALITY AS t(id, event_id, type, actor_id, target_user_id, workspace_id,
                           resource_type, resource_id, resource_name, metadata, occurred_at,
                           ord)
    WHERE t.event_id IS NULL
       OR NOT EXISTS (SELECT 1 FROM notifications n WHERE n.event_id = t.event_id)
),
decided AS (
    SELECT item.*,
           coalesce(w.in_app, g.in_app, true) AS in_app,
           coalesce(w.email, g.email, false) AS email
    FROM item
    LEFT JOIN notification_preferences w
      ON w.user_id = item.target_user_id AND w.workspace_id = item.workspace_id
     AND w.type = item.type
    LEFT JOIN notification_preferences g
      ON g.user_id = item.target_user_id AND g.workspace_id IS NULL AND g.type = item.type
),
ranked AS (
    SELECT decided.*,
           count(*) FILTER (WHERE in_app) OVER (PARTITION BY target_user_id) AS shown,
           row_number() OVER (PARTITION BY target_user_id, in_app ORDER BY ord) AS rank
    FROM decided
),
bumped AS (
    INSERT INTO notification_streams AS s (user_id, last_seq)
    SELECT target_user_id, max(shown) FROM ranked WHERE in_app
    GROUP BY target_user_id ORDER BY target_user_id
    ON CONFLICT (user_id) DO UPDATE SET last_seq = s.last_seq + excluded.last_seq
    RETURNING s.user_id, s.last_seq
)
INSERT INTO notifications AS n (
    id, target_user_id, seq, event_id, type, actor_id, workspace_id, resource_type,
    resource_id, resource_name, metadata, in_app, email_state, created_at
)
SELECT r.id, r.target_user_id,
       CASE WHEN r.in_app THEN b.last_seq - r.shown + r.rank END,
       r.event_id, r.type, r.actor_id, r.workspace_id, r.resource_type, r.resource_id,
       r.resource_name, r.metadata::jsonb, r.in_app,
       CASE WHEN r.email THEN 'pending' ELSE 'none' END,
       least(coalesce(r.occurred_at, now()), now())
FROM ranked r
LEFT JOIN bumped b ON b.user_id = r.target_user_id
ORDER BY r.ord
ON CONFLICT (event_id) DO NOTHING
RETURNING n.id, n.target_user_id, n.seq, n.event_id, n.type, n.actor_id, n.workspace_id,
          n.resource_type, n.resource_id, n.resource_name, n.metadata, n.is_read,
          n.read_at, n.created_at, n.in_app, n.email_state

-- name: notifications_by_events
-- The notifications created for these producer event ids (replies to retried requests).
SELECT id, target_user_id, seq, event_id, type, actor_id, workspace_id, resource_type,
       resource_id, resource_name, metadata, is_read, read_at, created_at, in_app, email_state
FROM notifications WHERE event_id = ANY(%(ids)b::uuid[])

-- name: count_listed
-- How many notifications the list holds (an index-only scan of notifications_list_idx).
SELECT count(*) FROM notifications
WHERE target_user_id = %(user)s AND workspace_id = %(workspace)s AND in_app
  AND (NOT %(unread_only)s OR NOT is_read)

-- name: list_page
-- One page of a user's notifications in one workspace, newest first; offset pagination
-- as the contract's clients page (notifications_list_idx).
SELECT id, target_user_id, seq, event_id, type, actor_id, workspace_id, resource_type,
       resource_id, resource_name, metadata, is_read, read_at, created_at, in_app, email_state
FROM notifications
WHERE target_user_id = %(user)s AND workspace_id = %(workspace)s AND in_app
  AND (NOT %(unread_only)s OR NOT is_read)
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s OFFSET %(offset)s

-- name: list_after
-- The same list continued after a keyset cursor (created_at, id): no OFFSET scan.
SELECT id, target_user_id, seq, event_id, type, actor_id, workspace_id, resource_type,
       resource_id, resource_name, metadata, is_read, read_at, created_at, in_app, email_state
FROM notifications
WHERE target_user_id = %(user)s AND workspace_id = %(workspace)s AND in_app
  AND (NOT %(unread_only)s OR NOT is_read)
  AND (created_at, id) < (%(before_at)s, %(before_id)s)
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s

-- name: unread_count
-- Unread notifications of a user in a workspace (notifications_unread_idx).
SELECT count(*) FROM notifications
WHERE target_user_id = %(user)s AND workspace_id = %(workspace)s AND in_app AND NOT is_read

-- name: mark_read
-- Mark one of the user's notifications read (the first read time is kept); ``changed``
-- says whether it was unread. No row: not the user's, or not shown in the app.
UPDATE notifications n
SET is_read = true, read_at = coalesce(n.read_at, now())
FROM (
    SELECT id, is_read AS was_read FROM notifications
    WHERE id = %(id)s AND target_user_id = %(user)s AND in_app
    FOR UPDATE
) old
WHERE n.id = old.id
RETURNING n.id, n.target_user_id, n.seq, n.event_id, n.type, n.actor_id, n.workspace_id,
          n.resource_type, n.resource_id, n.resource_name, n.metadata, n.is_read,
          n.read_at, n.created_at, NOT old.was_read AS changed

-- name: mark_all_read
-- Mark every unread notification of the user in the workspace read.
UPDATE notifications SET is_read = true, read_at = now()
WHERE target_user_id = %(user)s AND workspace_id = %(workspace)s AND in_app AND NOT is_read

-- name: delete_notification
-- Delete one of the user's notifications (hard delete, as the original).
DELETE FROM notifications
WHERE id = %(id)s AND target_user_id = %(user)s AND in_app
RETURNING workspace_id, NOT is_read AS was_unread
