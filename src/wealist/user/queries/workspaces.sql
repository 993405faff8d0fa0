-- name: workspace_seen_by_member
-- The workspace and the caller's role in it, when the caller is an active member of the
-- active workspace (one query decides access and returns the data).
SELECT w.id, w.owner_id, w.workspace_name, w.workspace_description, w.is_public,
       w.need_approved, w.only_owner_can_invite, w.is_active, w.created_at, w.deleted_at,
       coalesce(op.nick_name, nullif(o.name, ''), o.email) AS owner_nick_name,
       o.email AS owner_email,
       m.id AS member_id, m.role_name AS role
FROM workspaces w
JOIN workspace_members m ON m.workspace_id = w.id AND m.user_id = %(user)s AND m.is_active
JOIN users o ON o.id = w.owner_id
LEFT JOIN user_profiles op ON op.user_id = w.owner_id AND op.workspace_id = w.id
WHERE w.id = %(id)s AND w.is_active

-- name: lock_workspace_for_member
-- As workspace_seen_by_member, locking the workspace row: membership changes of one
-- workspace run one at a time, so counted rules (at most 4 ADMINs) hold under races.
SELECT w.id, w.owner_id, w.workspace_name, w.workspace_description, w.is_public,
       w.need_approved, w.only_owner_can_invite, w.is_active, w.created_at, w.deleted_at,
       NULL::text AS owner_nick_name, NULL::text AS owner_email,
       m.id AS member_id, m.role_name AS role
FROM workspaces w
JOIN workspace_members m ON m.workspace_id = w.id AND m.user_id = %(user)s AND m.is_active
WHERE w.id = %(id)s AND w.is_active
FOR UPDATE OF w

-- name: lock_workspace
-- An active workspace, locked (join requests by users who are not members yet).
SELECT id, owner_id, workspace_name, workspace_description, is_public, need_approved,
       only_owner_can_invite, is_active, created_at, deleted_at,
       NULL::text AS owner_nick_name, NULL::text AS owner_email
FROM workspaces
WHERE id = %(id)s AND is_active
FOR UPDATE

-- name: insert_workspace
-- The workspace, its OWNER membership (the default one when the owner has none) and the
-- owner's profile in it, in one statement.
WITH ws AS (
    INSERT INTO workspaces (id, owner_id, workspace_name, workspace_description, is_public,
                            need_approved)
    VALUES (%(id)s, %(owner)s, %(name)s, %(description)s, %(is_public)s, %(need_approved)s)
    RETURNING *
), member AS (
    INSERT INTO workspace_members (workspace_id, user_id, role_name, is_default)
    SELECT ws.id, ws.owner_id, 'OWNER', NOT EXISTS (
        SELECT 1 FROM workspace_members
        WHERE user_id = %(owner)s AND is_active AND is_default)
    FROM ws
    RETURNING id, version
), profile AS (
    INSERT INTO user_profiles (user_id, workspace_id, nick_name, email)
    SELECT ws.owner_id, ws.id, %(nick_name)s, %(email)s FROM ws
)
SELECT ws.id, ws.owner_id, ws.workspace_name, ws.workspace_description, ws.is_public,
       ws.need_approved, ws.only_owner_can_invite, ws.is_active, ws.created_at,
       ws.deleted_at, %(nick_name)s::text AS owner_nick_name, %(email)s::text AS owner_email,
       member.id AS member_id, 'OWNER' AS role, member.version
FROM ws, member

-- name: list_my_workspaces
-- The caller's active workspaces, the default first, then oldest first.
SELECT w.id, w.workspace_name, w.workspace_description, w.owner_id = %(user)s AS owner,
       m.role_name AS role, m.is_default, w.created_at
FROM workspace_members m
JOIN workspaces w ON w.id = m.workspace_id AND w.is_active
WHERE m.user_id = %(user)s AND m.is_active
ORDER BY m.is_default DESC, w.created_at, w.id

-- name: search_public_workspaces
-- Discovery: public, active workspaces whose name contains the pattern (already escaped
-- for LIKE), by name. Only what a stranger may see: no owner email.
SELECT w.id, w.owner_id, w.workspace_name, w.workspace_description, w.is_public,
       w.need_approved, w.only_owner_can_invite, w.is_active, w.created_at, w.deleted_at,
       coalesce(op.nick_name, nullif(o.name, ''), 'unknown') AS owner_nick_name,
       NULL::text AS owner_email
FROM workspaces w
JOIN users o ON o.id = w.owner_id
LEFT JOIN user_profiles op ON op.user_id = w.owner_id AND op.workspace_id = w.id
WHERE w.is_public AND w.is_active AND w.workspace_name ILIKE %(pattern)s ESCAPE '\'
ORDER BY lower(w.workspace_name), w.id
LIMIT %(limit)s

-- name: update_workspace
-- Fields left NULL keep their value.
UPDATE workspaces SET
    workspace_name = coalesce(%(name)s, workspace_name),
    workspace_description = CASE WHEN %(set_description)s THEN %(description)s
                                 ELSE workspace_description END,
    is_public = coalesce(%(is_public)s, is_public),
    need_approved = coalesce(%(need_approved)s, need_approved),
    only_owner_can_invite = coalesce(%(only_owner_can_invite)s, only_owner_can_invite),
    updated_at = now()
WHERE id = %(id)s AND is_active
RETURNING id, owner_id, workspace_name, workspace_description, is_public, need_approved,
          only_owner_can_invite, is_active, created_at, deleted_at,
          NULL::text AS owner_nick_name, NULL::text AS owner_email

-- name: delete_workspace
UPDATE workspaces SET is_active = false, deleted_at = now(), updated_at = now()
WHERE id = %(id)s AND is_active

-- name: bump_workspace_memberships
-- Every membership answer of a deleted workspace changes (to "not a member"): new
-- versions, so the cache takes the new answers. Returns who was an active member.
UPDATE workspace_members SET version = version + 1, updated_at = now()
WHERE workspace_id = %(id)s
RETURNING user_id, is_active, version

-- name: clear_default
UPDATE workspace_members SET is_default = false, updated_at = now()
WHERE user_id = %(user)s AND is_active AND is_default AND workspace_id <> %(id)s

-- name: set_default
UPDATE workspace_members m SET is_default = true, updated_at = now()
FROM workspaces w
WHERE m.workspace_id = %(id)s AND m.user_id = %(user)s AND m.is_active
  AND w.id = m.workspace_id AND w.is_active
