-- name: count_pending_uploads
SELECT count(*) FROM attachments
WHERE uploaded_by = %(user)s AND status = 'TEMP' AND expires_at > now()

-- name: insert_attachment
INSERT INTO attachments (id, file_key, file_name, file_url, file_size, content_type,
                         uploaded_by, expires_at, purge_after)
VALUES (%(id)s, %(key)s, %(name)s, %(url)s, %(size)s, %(content_type)s, %(user)s,
        %(expires_at)s, %(expires_at)s)

-- name: attachment_by_key
SELECT id, entity_type, entity_id, status, file_key, file_name, file_url, file_size,
       content_type, uploaded_by, uploaded_at, expires_at, created_at
FROM attachments WHERE file_key = %(key)s

-- name: lock_attachment
SELECT id, entity_type, entity_id, status, file_key, file_name, file_url, file_size,
       content_type, uploaded_by, uploaded_at, expires_at, created_at
FROM attachments WHERE id = %(id)s
FOR UPDATE

-- name: mark_uploaded
-- The object was checked (size, type, first bytes): the attachment may be confirmed.
UPDATE attachments SET uploaded_at = now(), file_name = %(name)s, updated_at = now()
WHERE id = %(id)s AND status = 'TEMP'
RETURNING id, entity_type, entity_id, status, file_key, file_name, file_url, file_size,
          content_type, uploaded_by, uploaded_at, expires_at, created_at

-- name: confirm_attachment
-- The image is now the profile's: it is kept, and the image it replaces is released.
WITH released AS (
    UPDATE attachments SET purge_after = now(), updated_at = now()
    WHERE entity_id = %(profile)s AND status = 'CONFIRMED' AND id <> %(id)s
      AND purge_after IS NULL
)
UPDATE attachments SET status = 'CONFIRMED', entity_id = %(profile)s, purge_after = NULL,
                       updated_at = now()
WHERE id = %(id)s

-- name: claim_purgeable
-- Attachments due for deletion, oldest first; replicas skip each other's rows.
SELECT id, file_key FROM attachments
WHERE purge_after < now()
ORDER BY purge_after
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED

-- name: delete_attachments
DELETE FROM attachments WHERE id = ANY(%(ids)s)
