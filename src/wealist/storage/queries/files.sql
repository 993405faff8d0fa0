-- name: file_seat
-- A file with what decides the caller's permission: the drive, the caller's membership of
-- it, and the best share of the file or of a folder above it.
SELECT f.id, f.workspace_id, f.project_id, f.folder_id, f.name, f.original_name, f.file_key,
       f.file_size, f.content_type, f.status, f.version, f.uploaded_by, f.created_at,
       f.updated_at, f.deleted_at, f.trash_root,
       p.is_public AS project_public, p.default_permission,
       (p.deleted_at IS NOT NULL) AS project_deleted,
       m.permission AS member_permission,
       (SELECT max(CASE s.permission WHEN 'EDITOR' THEN 2 ELSE 1 END)
          FROM storage_shares s
         WHERE s.shared_with_id = %(user)s
           AND (s.file_id = f.id
                OR (s.folder_id = ANY(d.ancestors)
                    AND (s.include_children OR s.folder_id = f.folder_id)))) AS share_level
FROM storage_files f
LEFT JOIN storage_folders d ON d.id = f.folder_id
LEFT JOIN storage_projects p ON p.id = f.project_id
LEFT JOIN storage_project_members m ON m.project_id = f.project_id AND m.user_id = %(user)s
WHERE f.id = %(id)s

-- name: lock_file
SELECT id, workspace_id, project_id, folder_id, name, original_name, file_key, file_size,
       content_type, status, version, uploaded_by, created_at, updated_at, deleted_at, trash_root
FROM storage_files WHERE id = %(id)s
FOR UPDATE

-- name: files_in
-- The active files directly in one place (a folder, or a drive's root), by name.
SELECT id, workspace_id, project_id, folder_id, name, original_name, file_key, file_size,
       content_type, status, version, uploaded_by, created_at, updated_at, deleted_at,
       trash_root, count(*) OVER () AS total
FROM storage_files
WHERE workspace_id = %(workspace)s
  AND project_id IS NOT DISTINCT FROM %(project)s
  AND folder_id IS NOT DISTINCT FROM %(folder)s
  AND status = 'ACTIVE'
ORDER BY name, id
LIMIT %(limit)s OFFSET %(offset)s

-- name: workspace_files
-- The workspace's active files in drives the caller may see, newest first;
-- storage_files_workspace_recent_idx. Pages by offset, or by keyset after a cursor.
SELECT f.id, f.workspace_id, f.project_id, f.folder_id, f.name, f.original_name, f.file_key,
       f.file_size, f.content_type, f.status, f.version, f.uploaded_by, f.created_at,
       f.updated_at, f.deleted_at, f.trash_root, count(*) OVER () AS total
FROM storage_files f
WHERE f.workspace_id = %(workspace)s AND f.status = 'ACTIVE'
  AND (%(after_at)s::timestamptz IS NULL OR (f.created_at, f.id) < (%(after_at)s, %(after_id)s))
  AND (%(pattern)s::text IS NULL OR f.name ILIKE %(pattern)s OR f.original_name ILIKE %(pattern)s)
  AND (f.project_id IS NULL OR f.project_id IN (
      SELECT p.id FROM storage_projects p
      LEFT JOIN storage_project_members m ON m.project_id = p.id AND m.user_id = %(user)s
      WHERE p.workspace_id = %(workspace)s AND p.deleted_at IS NULL
        AND (m.user_id IS NOT NULL OR p.is_public)))
ORDER BY f.created_at DESC, f.id DESC
LIMIT %(limit)s OFFSET %(offset)s

-- name: trashed_files
-- Files deleted on their own, newest first, in drives where the caller may edit (restore).
SELECT f.id, f.workspace_id, f.project_id, f.folder_id, f.name, f.original_name, f.file_key,
       f.file_size, f.content_type, f.status, f.version, f.uploaded_by, f.created_at,
       f.updated_at, f.deleted_at, f.trash_root, 0::bigint AS total
FROM storage_files f
WHERE f.workspace_id = %(workspace)s AND f.status = 'DELETED' AND f.trash_root = f.id
  AND (%(after_at)s::timestamptz IS NULL OR (f.deleted_at, f.id) < (%(after_at)s, %(after_id)s))
  AND (f.project_id IS NULL OR f.project_id IN (
      SELECT p.id FROM storage_projects p
      LEFT JOIN storage_project_members m ON m.project_id = p.id AND m.user_id = %(user)s
      WHERE p.workspace_id = %(workspace)s AND p.deleted_at IS NULL
        AND coalesce(m.permission, CASE WHEN p.is_public THEN p.default_permission END)
            IN ('EDITOR', 'OWNER')))
ORDER BY f.deleted_at DESC, f.id DESC
LIMIT %(limit)s

-- name: file_names
-- Active sibling file names equal to a name or to its numbered variants.
SELECT name FROM storage_files
WHERE workspace_id = %(workspace)s
  AND project_id IS NOT DISTINCT FROM %(project)s
  AND folder_id IS NOT DISTINCT FROM %(folder)s
  AND status = 'ACTIVE'
  AND (name = %(name)s OR name LIKE %(pattern)s)

-- name: insert_upload
-- A new file, UPLOADING, and its first (pending) version.
WITH file AS (
    INSERT INTO storage_files (id, workspace_id, project_id, folder_id, name, original_name,
                               file_key, file_size, content_type, status, version, uploaded_by)
    VALUES (%(file)s, %(workspace)s, %(project)s, %(folder)s, %(name)s, %(name)s, %(key)s,
            %(size)s, %(content_type)s, 'UPLOADING', 1, %(user)s)
    RETURNING id
)
INSERT INTO storage_file_versions (id, file_id, workspace_id, file_key, file_size,
                                   content_type, original_name, uploaded_by,
                                   upload_expires_at)
SELECT %(version)s, id, %(workspace)s, %(key)s, %(size)s, %(content_type)s, %(name)s,
       %(user)s, %(expires)s
FROM file

-- name: insert_version_upload
INSERT INTO storage_file_versions (id, file_id, workspace_id, file_key, file_size,
                                   content_type, original_name, uploaded_by,
                                   upload_expires_at)
VALUES (%(version)s, %(file)s, %(workspace)s, %(key)s, %(size)s, %(content_type)s,
        %(name)s, %(user)s, %(expires)s)

-- name: version_by_id
SELECT id, file_id, workspace_id, version, file_key, file_size, content_type, original_name,
       status, uploaded_by, created_at, confirmed_at, upload_expires_at
FROM storage_file_versions WHERE id = %(id)s

-- name: pending_first_version
SELECT id, file_id, workspace_id, version, file_key, file_size, content_type, original_name,
       status, uploaded_by, created_at, confirmed_at, upload_expires_at
FROM storage_file_versions WHERE file_id = %(file)s AND status = 'UPLOADING'
ORDER BY created_at
LIMIT 1

-- name: lock_version
SELECT id, file_id, workspace_id, version, file_key, file_size, content_type, original_name,
       status, uploaded_by, created_at, confirmed_at, upload_expires_at
FROM storage_file_versions WHERE id = %(id)s
FOR UPDATE

-- name: activate_version
-- Numbered after the file's newest confirmed version.
UPDATE storage_file_versions SET
    status = 'ACTIVE',
    confirmed_at = now(),
    version = (SELECT coalesce(max(version), 0) + 1 FROM storage_file_versions
               WHERE file_id = %(file)s AND status = 'ACTIVE')
WHERE id = %(id)s
RETURNING version

-- name: set_current
-- The file shows one of its versions (a new upload, or a restored old one).
UPDATE storage_files SET
    status = 'ACTIVE',
    name = %(name)s,
    file_key = %(key)s,
    file_size = %(size)s,
    content_type = %(content_type)s,
    version = %(number)s,
    updated_at = now()
WHERE id = %(id)s
RETURNING id, workspace_id, project_id, folder_id, name, original_name, file_key, file_size,
          content_type, status, version, uploaded_by, created_at, updated_at, deleted_at,
          trash_root

-- name: file_versions
SELECT id, file_id, workspace_id, version, file_key, file_size, content_type, original_name,
       status, uploaded_by, created_at, confirmed_at, upload_expires_at
FROM storage_file_versions WHERE file_id = %(file)s AND status = 'ACTIVE'
ORDER BY version DESC

-- name: version_by_number
SELECT id, file_id, workspace_id, version, file_key, file_size, content_type, original_name,
       status, uploaded_by, created_at, confirmed_at, upload_expires_at
FROM storage_file_versions WHERE file_id = %(file)s AND version = %(number)s

-- name: place_file
-- Name and place of one file (a move keeps its drive).
UPDATE storage_files SET name = %(name)s, folder_id = %(folder)s, updated_at = now()
WHERE id = %(id)s
RETURNING id, workspace_id, project_id, folder_id, name, original_name, file_key, file_size,
          content_type, status, version, uploaded_by, created_at, updated_at, deleted_at,
          trash_root

-- name: trash_file
UPDATE storage_files
SET status = 'DELETED', deleted_at = now(), trash_root = id, updated_at = now()
WHERE id = %(id)s AND status = 'ACTIVE'

-- name: restore_file
UPDATE storage_files
SET status = 'ACTIVE', deleted_at = NULL, trash_root = NULL, name = %(name)s,
    folder_id = %(folder)s, updated_at = now()
WHERE id = %(id)s AND status = 'DELETED'
RETURNING id, workspace_id, project_id, folder_id, name, original_name, file_key, file_size,
          content_type, status, version, uploaded_by, created_at, updated_at, deleted_at,
          trash_root

-- name: lock_quota
-- Serializes quota decisions of one workspace for this transaction.
SELECT pg_advisory_xact_lock(hashtextextended('storage-quota:' || %(workspace)s::text, 0))

-- name: usage
-- What a workspace holds: its active files (what the frontend shows), the trash, and every
-- stored version plus unexpired pending uploads (what the quota counts).
SELECT
    (SELECT coalesce(sum(file_size), 0)::bigint FROM storage_files
      WHERE workspace_id = %(workspace)s AND status = 'ACTIVE') AS total_size,
    (SELECT count(*) FROM storage_files
      WHERE workspace_id = %(workspace)s AND status = 'ACTIVE') AS file_count,
    (SELECT coalesce(sum(file_size), 0)::bigint FROM storage_files
      WHERE workspace_id = %(workspace)s AND status = 'DELETED') AS trash_size,
    coalesce(sum(v.file_size) FILTER (WHERE v.status = 'ACTIVE'), 0)::bigint AS stored,
    coalesce(sum(v.file_size) FILTER (WHERE v.status = 'UPLOADING'
                                        AND v.upload_expires_at > now()), 0)::bigint AS reserved
FROM storage_file_versions v
WHERE v.workspace_id = %(workspace)s

-- name: forget_doomed
DELETE FROM storage_doomed_blobs WHERE file_key = ANY(%(keys)s)

-- name: claim_doomed
-- Objects still to delete; SKIP LOCKED lets replicas share the work.
SELECT file_key FROM storage_doomed_blobs
ORDER BY created_at
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED

-- name: claim_expired_uploads
-- Pending uploads past their time, with their keys; SKIP LOCKED as above.
SELECT id, file_id, workspace_id, version, file_key, file_size, content_type, original_name,
       status, uploaded_by, created_at, confirmed_at, upload_expires_at
FROM storage_file_versions
WHERE status = 'UPLOADING' AND upload_expires_at < now()
ORDER BY upload_expires_at
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED

-- name: drop_uploads
-- The claimed pending versions, and the files that never got a confirmed version.
WITH versions AS (
    DELETE FROM storage_file_versions WHERE id = ANY(%(ids)s) RETURNING file_id
)
DELETE FROM storage_files f
WHERE f.id IN (SELECT file_id FROM versions) AND f.status = 'UPLOADING'
  AND NOT EXISTS (SELECT 1 FROM storage_file_versions v
                  WHERE v.file_id = f.id AND v.id <> ALL(%(ids)s))

-- name: doom
-- Objects to delete once this transaction commits (or by the cleanup job).
INSERT INTO storage_doomed_blobs (file_key)
SELECT unnest(%(keys)s::text[])
ON CONFLICT DO NOTHING
