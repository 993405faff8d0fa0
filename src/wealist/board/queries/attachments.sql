-- name: insert_upload
-- A TEMP attachment for a presigned upload, bound to its uploader and workspace.
INSERT INTO attachments (id, workspace_id, entity_type, file_key, file_name, file_size,
                         content_type, uploaded_by, expires_at)
VALUES (%(id)s, %(workspace)s, %(entity_type)s, %(key)s, %(name)s, %(size)s, %(content_type)s,
        %(user)s, now() + make_interval(secs => %(ttl)s))

-- name: pending_uploads
SELECT count(*) FROM attachments WHERE uploaded_by = %(user)s AND status = 'TEMP'

-- name: attachment_by_id
SELECT id, workspace_id, entity_type, entity_id, project_id, board_id, status, file_key,
       file_name, file_size, content_type, uploaded_by, expires_at, created_at
FROM attachments WHERE id = %(id)s AND status <> 'DELETED'

-- name: attachment_by_key
SELECT id, workspace_id, entity_type, entity_id, project_id, board_id, status, file_key,
       file_name, file_size, content_type, uploaded_by, expires_at, created_at
FROM attachments WHERE file_key = %(key)s AND status <> 'DELETED'

-- name: uploads_to_confirm
-- The caller's unexpired TEMP uploads among ``ids``, locked: what may be attached.
SELECT id, workspace_id, entity_type, entity_id, project_id, board_id, status, file_key,
       file_name, file_size, content_type, uploaded_by, expires_at, created_at
FROM attachments
WHERE id = ANY(%(ids)s::uuid[]) AND status = 'TEMP' AND uploaded_by = %(user)s
  AND expires_at > now()
FOR UPDATE

-- name: confirm_uploads
UPDATE attachments
SET status = 'CONFIRMED', entity_id = %(entity)s, project_id = %(project)s,
    board_id = %(board)s, expires_at = NULL
WHERE id = ANY(%(ids)s::uuid[])

-- name: files_of_entity
-- The confirmed files of one project, board or comment (not those of what it contains).
SELECT id, workspace_id, entity_type, entity_id, project_id, board_id, status, file_key,
       file_name, file_size, content_type, uploaded_by, expires_at, created_at
FROM attachments
WHERE entity_id = %(entity)s AND entity_type = %(entity_type)s AND status = 'CONFIRMED'
ORDER BY created_at, id

-- name: projects_attachments
-- The confirmed files of several projects at once (project lists: one query).
SELECT entity_id AS owner_id, id, file_name, file_key, file_size, content_type, uploaded_by,
       created_at
FROM attachments
WHERE entity_id = ANY(%(ids)s::uuid[]) AND entity_type = 'PROJECT' AND status = 'CONFIRMED'
ORDER BY created_at, id

-- name: discard
-- Files whose owner is gone (or that their uploader deleted): purged by the cleanup job.
UPDATE attachments SET status = 'DELETED', expires_at = now()
WHERE status <> 'DELETED'
  AND (id = %(id)s OR project_id = %(project)s OR board_id = %(board)s
       OR (entity_type = 'COMMENT' AND entity_id = %(comment)s))

-- name: discard_workspace
UPDATE attachments SET status = 'DELETED', expires_at = now()
WHERE workspace_id = %(workspace)s AND status <> 'DELETED'

-- name: claim_purge
-- Due files (expired uploads, discarded files), claimed so replicas share the work.
SELECT id, file_key FROM attachments
WHERE status <> 'CONFIRMED' AND expires_at <= now()
ORDER BY expires_at
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED

-- name: delete_attachments
DELETE FROM attachments WHERE id = ANY(%(ids)s::uuid[])
