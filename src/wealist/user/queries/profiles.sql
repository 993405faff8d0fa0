-- name: profile_of
-- The user's profile in the workspace, or else in "_default".
SELECT id, user_id, workspace_id, nick_name, email, profile_image_url, created_at, updated_at
FROM user_profiles
WHERE user_id = %(user)s
  AND workspace_id IN (%(workspace)s, '00000000-0000-0000-0000-000000000000')
ORDER BY workspace_id = %(workspace)s DESC
LIMIT 1

-- name: my_profiles
SELECT p.id, p.user_id, p.workspace_id, p.nick_name, p.email, p.profile_image_url,
       p.created_at, p.updated_at
FROM user_profiles p
JOIN workspaces w ON w.id = p.workspace_id
WHERE p.user_id = %(user)s
  AND (w.is_active OR w.id = '00000000-0000-0000-0000-000000000000')
ORDER BY p.created_at, p.id

-- name: insert_profile
-- No row when the user already has a profile in the workspace.
INSERT INTO user_profiles (user_id, workspace_id, nick_name, email, profile_image_url)
SELECT u.id, %(workspace)s, %(nick_name)s, u.email, %(image)s
FROM users u WHERE u.id = %(user)s
ON CONFLICT ON CONSTRAINT user_profiles_user_workspace_key DO NOTHING
RETURNING id, user_id, workspace_id, nick_name, email, profile_image_url, created_at,
          updated_at

-- name: upsert_profile
-- Create or update the caller's profile. NULL keeps a field; an empty image URL clears it.
INSERT INTO user_profiles AS p (user_id, workspace_id, nick_name, email, profile_image_url)
SELECT u.id, %(workspace)s, coalesce(%(nick_name)s, nullif(u.name, ''), u.email), u.email,
       nullif(%(image)s, '')
FROM users u WHERE u.id = %(user)s
ON CONFLICT ON CONSTRAINT user_profiles_user_workspace_key DO UPDATE SET
    nick_name = coalesce(%(nick_name)s, p.nick_name),
    profile_image_url = CASE WHEN %(image)s::text IS NULL THEN p.profile_image_url
                             ELSE nullif(%(image)s, '') END,
    updated_at = now()
RETURNING id, user_id, workspace_id, nick_name, email, profile_image_url, created_at,
          updated_at

-- name: delete_profile
-- Hard delete; the confirmed image it showed is handed to the cleanup job. Returns how
-- many profiles were deleted (0 or 1).
WITH gone AS (
    DELETE FROM user_profiles WHERE user_id = %(user)s AND workspace_id = %(workspace)s
    RETURNING id
), purged AS (
    UPDATE attachments SET purge_after = now(), updated_at = now()
    FROM gone WHERE attachments.entity_id = gone.id AND attachments.purge_after IS NULL
)
SELECT count(*) FROM gone

-- name: profile_exists
SELECT EXISTS (
    SELECT 1 FROM user_profiles WHERE user_id = %(user)s AND workspace_id = %(workspace)s)
