-- name: insert_join_request
-- A PENDING request; the partial unique index allows one per (project, user).
INSERT INTO project_join_requests (project_id, user_id)
VALUES (%(project)s, %(user)s)
ON CONFLICT DO NOTHING
RETURNING id, project_id, user_id, status, requested_at, updated_at

-- name: join_requests_of_project
SELECT id, project_id, user_id, status, requested_at, updated_at
FROM project_join_requests
WHERE project_id = %(project)s AND (%(status)s::text IS NULL OR status = %(status)s)
ORDER BY requested_at, id

-- name: join_request_for_update
SELECT id, project_id, user_id, status, requested_at, updated_at
FROM project_join_requests WHERE id = %(id)s
FOR UPDATE

-- name: join_request_project
SELECT project_id FROM project_join_requests WHERE id = %(id)s

-- name: decide_join_request
UPDATE project_join_requests SET status = %(status)s, updated_at = now()
WHERE id = %(id)s AND status = 'PENDING'
RETURNING id, project_id, user_id, status, requested_at, updated_at
