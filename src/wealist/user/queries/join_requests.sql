-- name: insert_join_request
-- No row when the user already has a PENDING request for the workspace.
INSERT INTO workspace_join_requests (workspace_id, user_id, status)
VALUES (%(workspace)s, %(user)s, %(status)s)
ON CONFLICT (workspace_id, user_id) WHERE status = 'PENDING' DO NOTHING
RETURNING id

-- name: join_request_view
-- One request with the requester's email and nickname and the workspace's name.
SELECT r.id, r.workspace_id, r.user_id, r.status, r.requested_at, r.updated_at,
       u.email AS user_email,
       coalesce(d.nick_name, nullif(u.name, ''), u.email) AS nick_name,
       w.workspace_name
FROM workspace_join_requests r
JOIN users u ON u.id = r.user_id
JOIN workspaces w ON w.id = r.workspace_id
LEFT JOIN user_profiles d
       ON d.user_id = r.user_id AND d.workspace_id = '00000000-0000-0000-0000-000000000000'
WHERE r.id = %(id)s

-- name: list_pending_join_requests
SELECT r.id, r.workspace_id, r.user_id, r.status, r.requested_at, r.updated_at,
       u.email AS user_email,
       coalesce(d.nick_name, nullif(u.name, ''), u.email) AS nick_name,
       w.workspace_name
FROM workspace_join_requests r
JOIN users u ON u.id = r.user_id
JOIN workspaces w ON w.id = r.workspace_id
LEFT JOIN user_profiles d
       ON d.user_id = r.user_id AND d.workspace_id = '00000000-0000-0000-0000-000000000000'
WHERE r.workspace_id = %(workspace)s AND r.status = 'PENDING'
ORDER BY r.requested_at, r.id
LIMIT %(limit)s

-- name: find_join_request
-- A request of this workspace, by its id or (for the approve/reject paths) the pending
-- request of a user; locked while it is decided.
SELECT id, user_id, status FROM workspace_join_requests
WHERE workspace_id = %(workspace)s
  AND (id = %(ref)s OR (user_id = %(ref)s AND status = 'PENDING'))
ORDER BY status = 'PENDING' DESC
LIMIT 1
FOR UPDATE

-- name: decide_join_request
UPDATE workspace_join_requests SET status = %(status)s, updated_at = now()
WHERE id = %(id)s

-- name: approve_pending_request_of
-- Inviting a user who asked to join answers their request too.
UPDATE workspace_join_requests SET status = 'APPROVED', updated_at = now()
WHERE workspace_id = %(workspace)s AND user_id = %(user)s AND status = 'PENDING'
