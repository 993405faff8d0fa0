-- name: folder_seat
-- A folder (live or trashed) with what decides the caller's permission: the drive, the
-- caller's membership of it, and the best share of it or of an ancestor folder.
SELECT d.id, d.workspace_id, d.project_id, d.parent_id, d.name, d.path, d.ancestors, d.color,
       d.created_by, d.created_at, d.updated_at, d.deleted_at, d.trash_root,
       p.is_public AS project_public, p.default_permission,
       (p.deleted_at IS NOT NULL) AS project_deleted,
       m.permission AS member_permission,
       (SELECT max(CASE s.permission WHEN 'EDITOR' THEN 2 ELSE 1 END)
          FROM storage_shares s
         WHERE s.shared_with_id = %(user)s
           AND s.folder_id = ANY(d.ancestors)
           AND (s.include_children OR s.folder_id = d.id)) AS share_level
FROM storage_folders d
LEFT JOIN storage_projects p ON p.id = d.project_id
LEFT JOIN storage_project_members m ON m.project_id = d.project_id AND m.user_id = %(user)s
WHERE d.id = %(id)s

-- name: folder_counts
-- What a folder directly holds (FolderResponse's counts).
SELECT (SELECT count(*) FROM storage_files f
         WHERE f.folder_id = %(id)s AND f.status = 'ACTIVE') AS file_count,
       (SELECT count(*) FROM storage_folders c
         WHERE c.parent_id = %(id)s AND c.deleted_at IS NULL) AS folder_count,
       (SELECT coalesce(sum(f.file_size), 0)::bigint FROM storage_files f
         WHERE f.folder_id = %(id)s AND f.status = 'ACTIVE') AS total_size

-- name: child_folders
-- The live folders directly in one place (a folder, or a drive's root), by name, with what
-- each directly holds; storage_folders_children_idx.
SELECT c.id, c.workspace_id, c.project_id, c.parent_id, c.name, c.path, c.ancestors, c.color,
       c.created_by, c.created_at, c.updated_at, c.deleted_at, c.trash_root,
       (SELECT count(*) FROM storage_files f
         WHERE f.folder_id = c.id AND f.status = 'ACTIVE') AS file_count,
       (SELECT count(*) FROM storage_folders g
         WHERE g.parent_id = c.id AND g.deleted_at IS NULL) AS folder_count,
       (SELECT coalesce(sum(f.file_size), 0)::bigint FROM storage_files f
         WHERE f.folder_id = c.id AND f.status = 'ACTIVE') AS total_size
FROM storage_folders c
WHERE c.workspace_id = %(workspace)s
  AND c.project_id IS NOT DISTINCT FROM %(project)s
  AND c.parent_id IS NOT DISTINCT FROM %(parent)s
  AND c.deleted_at IS NULL
ORDER BY c.name, c.id

-- name: folder_names
-- Live sibling folder names equal to a name or to its numbered variants ("name (n)").
SELECT name FROM storage_folders
WHERE workspace_id = %(workspace)s
  AND project_id IS NOT DISTINCT FROM %(project)s
  AND parent_id IS NOT DISTINCT FROM %(parent)s
  AND deleted_at IS NULL
  AND (name = %(name)s OR name LIKE %(pattern)s)

-- name: lock_names
-- Serializes name choices inside one place (folder or drive root) for this transaction.
SELECT pg_advisory_xact_lock(hashtextextended(%(place)s, 0))

-- name: insert_folder
INSERT INTO storage_folders (id, workspace_id, project_id, parent_id, name, path, ancestors,
                             color, created_by)
VALUES (%(id)s, %(workspace)s, %(project)s, %(parent)s, %(name)s, %(path)s, %(ancestors)s,
        %(color)s, %(user)s)
RETURNING id, workspace_id, project_id, parent_id, name, path, ancestors, color, created_by,
          created_at, updated_at, deleted_at, trash_root

-- name: set_folder
-- Name, colour and place of one folder (its subtree's paths are rewritten by reroot_tree).
UPDATE storage_folders SET
    name = %(name)s,
    color = %(color)s,
    parent_id = %(parent)s,
    updated_at = now()
WHERE id = %(id)s

-- name: reroot_tree
-- A folder moved or renamed: every row of its subtree gets the new path and ancestors
-- prefix (GIN on ancestors).
UPDATE storage_folders SET
    path = %(new_path)s || substr(path, length(%(old_path)s) + 1),
    ancestors = %(new_prefix)s::uuid[] || ancestors[%(old_depth)s + 1:]
WHERE ancestors @> ARRAY[%(id)s]::uuid[]

-- name: trash_folder_tree
-- A folder and everything under it go to the trash together, remembered as one deletion.
WITH folders AS (
    UPDATE storage_folders
    SET deleted_at = now(), trash_root = %(id)s, updated_at = now()
    WHERE ancestors @> ARRAY[%(id)s]::uuid[] AND deleted_at IS NULL
    RETURNING id
)
UPDATE storage_files
SET status = 'DELETED', deleted_at = now(), trash_root = %(id)s, updated_at = now()
WHERE folder_id IN (SELECT id FROM folders) AND status = 'ACTIVE'

-- name: restore_folder_tree
-- Exactly what one deletion took comes back (items trashed on their own stay trashed).
WITH folders AS (
    UPDATE storage_folders SET deleted_at = NULL, trash_root = NULL, updated_at = now()
    WHERE trash_root = %(id)s
    RETURNING id
)
UPDATE storage_files
SET status = 'ACTIVE', deleted_at = NULL, trash_root = NULL, updated_at = now()
WHERE trash_root = %(id)s

-- name: workspace_folders
-- Every live folder of the workspace the caller may see, by path.
SELECT c.id, c.workspace_id, c.project_id, c.parent_id, c.name, c.path, c.ancestors, c.color,
       c.created_by, c.created_at, c.updated_at, c.deleted_at, c.trash_root,
       (SELECT count(*) FROM storage_files f
         WHERE f.folder_id = c.id AND f.status = 'ACTIVE') AS file_count,
       (SELECT count(*) FROM storage_folders g
         WHERE g.parent_id = c.id AND g.deleted_at IS NULL) AS folder_count,
       (SELECT coalesce(sum(f.file_size), 0)::bigint FROM storage_files f
         WHERE f.folder_id = c.id AND f.status = 'ACTIVE') AS total_size
FROM storage_folders c
WHERE c.workspace_id = %(workspace)s AND c.deleted_at IS NULL
  AND (c.project_id IS NULL OR c.project_id IN (
      SELECT p.id FROM storage_projects p
      LEFT JOIN storage_project_members m ON m.project_id = p.id AND m.user_id = %(user)s
      WHERE p.workspace_id = %(workspace)s AND p.deleted_at IS NULL
        AND (m.user_id IS NOT NULL OR p.is_public)))
ORDER BY c.project_id NULLS FIRST, c.path, c.id
LIMIT %(limit)s

-- name: trashed_folders
-- Folders deleted on their own (each brings its subtree back), newest first, in drives
-- where the caller may edit (restore); keyset on (deleted_at, id).
SELECT c.id, c.workspace_id, c.project_id, c.parent_id, c.name, c.path, c.ancestors, c.color,
       c.created_by, c.created_at, c.updated_at, c.deleted_at, c.trash_root,
       0::bigint AS file_count, 0::bigint AS folder_count, 0::bigint AS total_size
FROM storage_folders c
WHERE c.workspace_id = %(workspace)s AND c.trash_root = c.id
  AND (%(after_at)s::timestamptz IS NULL OR (c.deleted_at, c.id) < (%(after_at)s, %(after_id)s))
  AND (c.project_id IS NULL OR c.project_id IN (
      SELECT p.id FROM storage_projects p
      LEFT JOIN storage_project_members m ON m.project_id = p.id AND m.user_id = %(user)s
      WHERE p.workspace_id = %(workspace)s AND p.deleted_at IS NULL
        AND coalesce(m.permission, CASE WHEN p.is_public THEN p.default_permission END)
            IN ('EDITOR', 'OWNER')))
ORDER BY c.deleted_at DESC, c.id DESC
LIMIT %(limit)s

-- name: search_folders
-- Live folders whose name contains the text, in drives the caller may see.
SELECT c.id, c.workspace_id, c.project_id, c.parent_id, c.name, c.path, c.ancestors, c.color,
       c.created_by, c.created_at, c.updated_at, c.deleted_at, c.trash_root,
       0::bigint AS file_count, 0::bigint AS folder_count, 0::bigint AS total_size
FROM storage_folders c
WHERE c.workspace_id = %(workspace)s AND c.deleted_at IS NULL AND c.name ILIKE %(pattern)s
  AND (c.project_id IS NULL OR c.project_id IN (
      SELECT p.id FROM storage_projects p
      LEFT JOIN storage_project_members m ON m.project_id = p.id AND m.user_id = %(user)s
      WHERE p.workspace_id = %(workspace)s AND p.deleted_at IS NULL
        AND (m.user_id IS NOT NULL OR p.is_public)))
ORDER BY c.name, c.id
LIMIT %(limit)s

-- name: purge
-- Folder subtrees and single files gone for good: their objects are doomed (deleted after
-- commit, retried by the cleanup job) and their rows removed; versions and shares cascade.
WITH tree AS (
    SELECT id FROM storage_folders WHERE ancestors && %(folders)s::uuid[]
), gone AS (
    SELECT id FROM storage_files
    WHERE folder_id IN (SELECT id FROM tree) OR id = ANY(%(files)s::uuid[])
), doomed AS (
    INSERT INTO storage_doomed_blobs (file_key)
    SELECT v.file_key FROM storage_file_versions v WHERE v.file_id IN (SELECT id FROM gone)
    ON CONFLICT DO NOTHING
    RETURNING file_key
), files AS (
    DELETE FROM storage_files WHERE id IN (SELECT id FROM gone) RETURNING id
), folders AS (
    DELETE FROM storage_folders WHERE id IN (SELECT id FROM tree) RETURNING id
)
SELECT coalesce((SELECT array_agg(file_key) FROM doomed), '{}') AS keys,
       (SELECT count(*) FROM files) AS files,
       (SELECT count(*) FROM folders) AS folders
