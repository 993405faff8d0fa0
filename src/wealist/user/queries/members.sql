-- name: list_members
-- Active members with email, and the nickname and image of their profile in this
-- workspace, falling back to their "_default" profile, then to their name or email.
SELECT m.id, m.workspace_id, m.user_id, m.role_name, m.is_default, m.is_active,
       m.joined_at, m.updated_at, u.email AS user_email,
       coalesce(p.nick_name, d.nick_name, nullif(u.name, ''), u.email) AS nick_name,
       coalesce(p.profile_image_url, d.profile_image_url) AS profile_image_url
FROM workspace_members m
JOIN users u ON u.id = m.user_id
LEFT JOIN user_profiles p ON p.user_id = m.user_id AND p.workspace_id = m.workspace_id
LEFT JOIN user_profiles d
       ON d.user_id = m.user_id AND d.workspace_id = '00000000-0000-0000-0000-000000000000'
WHERE m.workspace_id = %(id)s AND m.is_active
  AND (m.joined_at, m.id) > (%(after_joined)s, %(after_id)s)
ORDER BY m.joined_at, m.id
LIMIT %(limit)s

-- name: member_view
-- One membership as list_members shows it.
SELECT m.id, m.workspace_id, m.user_id, m.role_name, m.is_default, m.is_active,
       m.joined_at, m.updated_at, u.email AS user_email,
       coalesce(p.nick_name, d.nick_name, nullif(u.name, ''), u.email) AS nick_name,
       coalesce(p.profile_image_url, d.profile_image_url) AS profile_image_url
FROM workspace_members m
JOIN users u ON u.id = m.user_id
LEFT JOIN user_profiles p ON p.user_id = m.user_id AND p.workspace_id = m.workspace_id
LEFT JOIN user_profiles d
       ON d.user_id = m.user_id AND d.workspace_id = '00000000-0000-0000-0000-000000000000'
WHERE m.id = %(id)s

-- name: find_member
-- An active member of the workspace, named by membership id or by user id (the frontend
-- uses both); never a member of another workspace.
SELECT id, user_id, role_name AS role
FROM workspace_members
WHERE workspace_id = %(workspace)s AND (id = %(ref)s OR user_id = %(ref)s) AND is_active

-- name: count_admins
SELECT count(*) FROM workspace_members
WHERE workspace_id = %(workspace)s AND is_active AND role_name = 'ADMIN'

-- name: add_member
-- Make the user an active member: a new row, or the removed row reactivated (so a
-- (workspace, user) pair never has two rows). No row when already an active member.
INSERT INTO workspace_members AS m (workspace_id, user_id, role_name)
VALUES (%(workspace)s, %(user)s, %(role)s)
ON CONFLICT ON CONSTRAINT workspace_members_workspace_user_key DO UPDATE SET
    is_active = true, role_name = EXCLUDED.role_name, is_default = false,
    version = m.version + 1, joined_at = now(), updated_at = now()
WHERE NOT m.is_active
RETURNING id, version

-- name: ensure_profile
-- The member's profile in the workspace, created from their name (or email) if missing.
INSERT INTO user_profiles (user_id, workspace_id, nick_name, email)
SELECT u.id, %(workspace)s, coalesce(nullif(u.name, ''), u.email), u.email
FROM users u WHERE u.id = %(user)s
ON CONFLICT ON CONSTRAINT user_profiles_user_workspace_key DO NOTHING

-- name: set_member_role
UPDATE workspace_members SET role_name = %(role)s, version = version + 1, updated_at = now()
WHERE id = %(id)s AND is_active
RETURNING version

-- name: deactivate_member
UPDATE workspace_members
SET is_active = false, is_default = false, version = version + 1, updated_at = now()
WHERE id = %(id)s AND is_active
RETURNING version

-- name: deactivate_memberships_of_user
-- A deleted account leaves every workspace it did not own.
UPDATE workspace_members
SET is_active = false, is_default = false, version = version + 1, updated_at = now()
WHERE user_id = %(user)s AND is_active
RETURNING workspace_id, version

-- name: owned_workspace_count
SELECT count(*) FROM workspaces WHERE owner_id = %(user)s AND is_active

-- name: membership
-- The answer the internal API and the cache give for one (workspace, user).
SELECT m.role_name AS role, m.is_active AND w.is_active AS is_member, m.version
FROM workspace_members m
JOIN workspaces w ON w.id = m.workspace_id
WHERE m.workspace_id = %(workspace)s AND m.user_id = %(user)s

-- name: share_workspace
-- Whether the two users are both active members of one active workspace.
SELECT EXISTS (
    SELECT 1
    FROM workspace_members a
    JOIN workspace_members b ON b.workspace_id = a.workspace_id AND b.user_id = %(other)s
                            AND b.is_active
    JOIN workspaces w ON w.id = a.workspace_id AND w.is_active
    WHERE a.user_id = %(user)s AND a.is_active)

-- name: workspace_name
SELECT workspace_name FROM workspaces WHERE id = %(workspace)s AND is_active

-- name: directory
-- How the given users appear in the workspace: profile nickname (else their name), email.
SELECT u.id::text AS user_id, coalesce(nullif(p.nick_name, ''), u.name) AS name, u.email,
       p.profile_image_url
FROM unnest(%(users)s::uuid[]) AS asked (id)
JOIN users u ON u.id = asked.id AND u.deleted_at IS NULL
LEFT JOIN user_profiles p ON p.user_id = u.id AND p.workspace_id = %(workspace)s
