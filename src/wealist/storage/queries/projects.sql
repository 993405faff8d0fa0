-- name: insert_project
-- The drive and its creator as OWNER, in one statement.
WITH project AS (
    INSERT INTO storage_projects (id, workspace_id, name, description, default_permission,
                                  is_public, created_by)
    VALUES (%(id)s, %(workspace)s, %(name)s, %(description)s, %(default_permission)s,
            %(is_public)s, %(user)s)
    RETURNING *
), owner AS (
    INSERT INTO storage_project_members (project_id, user_id, permission, added_by)
    SELECT id, created_by, 'OWNER', created_by FROM project
)
SELECT id FROM project

-- name: project_seat
-- A live drive and the caller's explicit permission in it; primary key + member pair.
SELECT p.id, p.workspace_id, p.name, p.description, p.default_permission, p.is_public,
       p.created_by, p.created_at, p.updated_at, p.deleted_at, m.permission
FROM storage_projects p
LEFT JOIN storage_project_members m ON m.project_id = p.id AND m.user_id = %(user)s
WHERE p.id = %(id)s AND p.deleted_at IS NULL

-- name: project_view
-- A live drive, the caller's permission and its counts (GET /projects/{id}).
SELECT p.id, p.workspace_id, p.name, p.description, p.default_permission, p.is_public,
       p.created_by, p.created_at, p.updated_at, p.deleted_at, m.permission,
       (SELECT count(*) FROM storage_project_members x WHERE x.project_id = p.id) AS member_count,
       (SELECT count(*) FROM storage_files f
         WHERE f.project_id = p.id AND f.status = 'ACTIVE') AS file_count,
       (SELECT count(*) FROM storage_folders d
         WHERE d.project_id = p.id AND d.deleted_at IS NULL) AS folder_count,
       (SELECT coalesce(sum(f.file_size), 0)::bigint FROM storage_files f
         WHERE f.project_id = p.id AND f.status = 'ACTIVE') AS total_size,
       0 AS total
FROM storage_projects p
LEFT JOIN storage_project_members m ON m.project_id = p.id AND m.user_id = %(user)s
WHERE p.id = %(id)s AND p.deleted_at IS NULL

-- name: visible_projects
-- The workspace's drives the caller may open (public ones, and those they belong to),
-- oldest first, one page, with the total; storage_projects_workspace_idx.
SELECT p.id, p.workspace_id, p.name, p.description, p.default_permission, p.is_public,
       p.created_by, p.created_at, p.updated_at, p.deleted_at, m.permission,
       (SELECT count(*) FROM storage_project_members x WHERE x.project_id = p.id) AS member_count,
       (SELECT count(*) FROM storage_files f
         WHERE f.project_id = p.id AND f.status = 'ACTIVE') AS file_count,
       (SELECT count(*) FROM storage_folders d
         WHERE d.project_id = p.id AND d.deleted_at IS NULL) AS folder_count,
       (SELECT coalesce(sum(f.file_size), 0)::bigint FROM storage_files f
         WHERE f.project_id = p.id AND f.status = 'ACTIVE') AS total_size,
       count(*) OVER () AS total
FROM storage_projects p
LEFT JOIN storage_project_members m ON m.project_id = p.id AND m.user_id = %(user)s
WHERE p.workspace_id = %(workspace)s AND p.deleted_at IS NULL
  AND (p.is_public OR m.user_id IS NOT NULL)
ORDER BY p.created_at, p.id
LIMIT %(limit)s OFFSET %(offset)s

-- name: update_project
-- NULL keeps a field; set_description distinguishes "clear" from "keep".
UPDATE storage_projects SET
    name = coalesce(%(name)s, name),
    description = CASE WHEN %(set_description)s THEN %(description)s ELSE description END,
    default_permission = coalesce(%(default_permission)s, default_permission),
    is_public = coalesce(%(is_public)s, is_public),
    updated_at = now()
WHERE id = %(id)s AND deleted_at IS NULL

-- name: delete_project
UPDATE storage_projects SET deleted_at = now(), updated_at = now()
WHERE id = %(id)s AND deleted_at IS NULL

-- name: purge_project
-- Everything a deleted drive held: its objects are doomed, its rows removed (shares and
-- versions cascade). NO ACTION foreign keys are checked at the end of the statement.
WITH gone AS (
    SELECT id FROM storage_files WHERE project_id = %(id)s
), doomed AS (
    INSERT INTO storage_doomed_blobs (file_key)
    SELECT v.file_key FROM storage_file_versions v WHERE v.file_id IN (SELECT id FROM gone)
    ON CONFLICT DO NOTHING
    RETURNING file_key
), files AS (
    DELETE FROM storage_files WHERE id IN (SELECT id FROM gone) RETURNING id
), folders AS (
    DELETE FROM storage_folders WHERE project_id = %(id)s RETURNING id
)
SELECT coalesce((SELECT array_agg(file_key) FROM doomed), '{}') AS keys,
       (SELECT count(*) FROM files) AS files,
       (SELECT count(*) FROM folders) AS folders

-- name: project_members
SELECT id, project_id, user_id, permission, added_by, created_at, updated_at
FROM storage_project_members
WHERE project_id = %(project)s
ORDER BY created_at, id

-- name: project_member
-- One member by user id or by membership id (the frontend sends either).
SELECT id, project_id, user_id, permission, added_by, created_at, updated_at
FROM storage_project_members
WHERE project_id = %(project)s AND (user_id = %(who)s OR id = %(who)s)
ORDER BY (user_id = %(who)s) DESC
LIMIT 1

-- name: insert_member
INSERT INTO storage_project_members (project_id, user_id, permission, added_by)
VALUES (%(project)s, %(user)s, %(permission)s, %(added_by)s)
ON CONFLICT (project_id, user_id) DO NOTHING
RETURNING id, project_id, user_id, permission, added_by, created_at, updated_at

-- name: update_member
UPDATE storage_project_members SET permission = %(permission)s, updated_at = now()
WHERE id = %(id)s
RETURNING id, project_id, user_id, permission, added_by, created_at, updated_at

-- name: delete_member
DELETE FROM storage_project_members WHERE id = %(id)s

-- name: lock_project_owners
-- The drive's OWNER rows, locked: owner changes of one drive apply one at a time.
SELECT user_id FROM storage_project_members
WHERE project_id = %(project)s AND permission = 'OWNER'
ORDER BY user_id
FOR UPDATE
