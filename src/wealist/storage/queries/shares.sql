-- name: insert_share
INSERT INTO storage_shares (id, workspace_id, entity_type, file_id, folder_id, shared_with_id,
                            shared_by_id, permission, is_public, share_link, link_expires_at,
                            password_hash, include_children)
VALUES (%(id)s, %(workspace)s, %(entity_type)s, %(file)s, %(folder)s, %(shared_with)s,
        %(shared_by)s, %(permission)s, %(is_public)s, %(link)s, %(expires)s, %(password)s,
        %(include_children)s)
ON CONFLICT DO NOTHING
RETURNING id

-- name: share_by_id
-- A share and the name of its item (NULL when the item is trashed or gone).
SELECT s.id, s.workspace_id, s.entity_type, s.file_id, s.folder_id, s.shared_with_id,
       s.shared_by_id, s.permission, s.is_public, s.share_link, s.link_expires_at,
       s.password_hash, s.include_children, s.created_at, s.updated_at,
       coalesce(f.name, d.name) AS entity_name
FROM storage_shares s
LEFT JOIN storage_files f ON f.id = s.file_id AND f.status = 'ACTIVE'
LEFT JOIN storage_folders d ON d.id = s.folder_id AND d.deleted_at IS NULL
WHERE s.id = %(id)s

-- name: share_by_link
SELECT s.id, s.workspace_id, s.entity_type, s.file_id, s.folder_id, s.shared_with_id,
       s.shared_by_id, s.permission, s.is_public, s.share_link, s.link_expires_at,
       s.password_hash, s.include_children, s.created_at, s.updated_at,
       coalesce(f.name, d.name) AS entity_name
FROM storage_shares s
LEFT JOIN storage_files f ON f.id = s.file_id AND f.status = 'ACTIVE'
LEFT JOIN storage_folders d ON d.id = s.folder_id AND d.deleted_at IS NULL
WHERE s.share_link = %(link)s

-- name: shares_of
-- Every share of one file or folder, oldest first.
SELECT s.id, s.workspace_id, s.entity_type, s.file_id, s.folder_id, s.shared_with_id,
       s.shared_by_id, s.permission, s.is_public, s.share_link, s.link_expires_at,
       s.password_hash, s.include_children, s.created_at, s.updated_at,
       coalesce(f.name, d.name) AS entity_name
FROM storage_shares s
LEFT JOIN storage_files f ON f.id = s.file_id AND f.status = 'ACTIVE'
LEFT JOIN storage_folders d ON d.id = s.folder_id AND d.deleted_at IS NULL
WHERE (s.file_id = %(file)s OR s.folder_id = %(folder)s)
ORDER BY s.created_at, s.id

-- name: shared_with
-- Live items shared with a user, newest share first; keyset on (created_at, id);
-- storage_shares_with_idx.
SELECT s.id, s.workspace_id, s.entity_type, s.file_id, s.folder_id, s.shared_with_id,
       s.shared_by_id, s.permission, s.is_public, s.share_link, s.link_expires_at,
       s.password_hash, s.include_children, s.created_at, s.updated_at,
       coalesce(f.name, d.name) AS entity_name
FROM storage_shares s
LEFT JOIN storage_files f ON f.id = s.file_id AND f.status = 'ACTIVE'
LEFT JOIN storage_folders d ON d.id = s.folder_id AND d.deleted_at IS NULL
WHERE s.shared_with_id = %(user)s
  AND (f.id IS NOT NULL OR d.id IS NOT NULL)
  AND (%(workspace)s::uuid IS NULL OR s.workspace_id = %(workspace)s)
  AND (%(after_at)s::timestamptz IS NULL OR (s.created_at, s.id) < (%(after_at)s, %(after_id)s))
ORDER BY s.created_at DESC, s.id DESC
LIMIT %(limit)s

-- name: update_share
UPDATE storage_shares SET
    permission = coalesce(%(permission)s, permission),
    link_expires_at = CASE WHEN %(set_expiry)s THEN %(expires)s ELSE link_expires_at END,
    password_hash = CASE WHEN %(set_password)s THEN %(password)s ELSE password_hash END,
    updated_at = now()
WHERE id = %(id)s

-- name: delete_share
DELETE FROM storage_shares WHERE id = %(id)s
