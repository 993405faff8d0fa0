-- name: upsert_login_user
-- Find the user with this email (case-insensitively) or create it, in one round trip.
-- DO UPDATE rather than DO NOTHING: it locks and returns the existing row even when a
-- concurrent call inserted it after this statement's snapshot was taken, so every caller
-- gets exactly one row and racing calls agree on the id. The update only fills in the
-- name of an active user whose name is still empty, and never for create-only calls.
-- "created" compares the returned id with the one proposed for a new row.
INSERT INTO users AS u (id, email, name, provider)
VALUES (%(id)s, %(email)s, %(name)s, %(provider)s)
ON CONFLICT ((lower(email))) DO UPDATE SET
    name = CASE
        WHEN u.name = '' AND u.is_active AND u.deleted_at IS NULL AND NOT %(create_only)s
        THEN EXCLUDED.name ELSE u.name END,
    updated_at = CASE
        WHEN u.name = '' AND EXCLUDED.name <> '' AND u.is_active AND u.deleted_at IS NULL
            AND NOT %(create_only)s
        THEN now() ELSE u.updated_at END
RETURNING u.id, u.id = %(id)s AS created, u.is_active AND u.deleted_at IS NULL AS active

-- name: user_is_active
-- Whether the user exists, is active and is not soft-deleted; primary key lookup.
SELECT EXISTS (
    SELECT 1 FROM users WHERE id = %(id)s AND is_active AND deleted_at IS NULL
)

-- name: get_user
-- One user that is not soft-deleted; primary key lookup.
SELECT id, email, name, google_id, provider, is_active, created_at, updated_at, deleted_at
FROM users WHERE id = %(id)s AND deleted_at IS NULL

-- name: get_user_any
-- One user, soft-deleted or not (restore answers with it).
SELECT id, email, name, google_id, provider, is_active, created_at, updated_at, deleted_at
FROM users WHERE id = %(id)s

-- name: get_user_seen_by
-- The user, if the viewer is that user or shares an active workspace with them: nobody
-- can read the email of a stranger by guessing an id.
SELECT u.id, u.email, u.name, u.google_id, u.provider, u.is_active, u.created_at,
       u.updated_at, u.deleted_at
FROM users u
WHERE u.id = %(id)s AND u.deleted_at IS NULL
  AND (u.id = %(viewer)s OR EXISTS (
        SELECT 1
        FROM workspace_members theirs
        JOIN workspace_members mine
          ON mine.workspace_id = theirs.workspace_id AND mine.user_id = %(viewer)s
             AND mine.is_active
        JOIN workspaces w ON w.id = theirs.workspace_id AND w.is_active
        WHERE theirs.user_id = u.id AND theirs.is_active))

-- name: find_active_user_by_email
SELECT id, email, name FROM users
WHERE lower(email) = lower(%(email)s) AND is_active AND deleted_at IS NULL

-- name: insert_user
-- A new user; no row when the email is taken (case-insensitively).
INSERT INTO users (id, email, google_id, provider)
VALUES (%(id)s, %(email)s, %(google_id)s, %(provider)s)
ON CONFLICT ((lower(email))) DO NOTHING
RETURNING id, email, name, google_id, provider, is_active, created_at, updated_at, deleted_at

-- name: update_user
-- Name (when given) and deactivation of a user that is not soft-deleted.
UPDATE users SET
    name = coalesce(%(name)s, name),
    is_active = coalesce(%(is_active)s, is_active),
    updated_at = now()
WHERE id = %(id)s AND deleted_at IS NULL
RETURNING id, email, name, google_id, provider, is_active, created_at, updated_at, deleted_at

-- name: soft_delete_user
UPDATE users SET is_active = false, deleted_at = now(), updated_at = now()
WHERE id = %(id)s AND deleted_at IS NULL

-- name: restore_user
UPDATE users SET is_active = true, deleted_at = NULL, updated_at = now()
WHERE id = %(id)s
RETURNING id, email, name, google_id, provider, is_active, created_at, updated_at, deleted_at

-- name: lock_user
-- Serialises the workspace creations of one user (its "default" choice reads then writes).
SELECT id, email, name FROM users
WHERE id = %(id)s AND is_active AND deleted_at IS NULL
FOR UPDATE
