-- name: user_by_email
-- The caller of every portal request (portal_users_email_key).
SELECT id, email, name, picture, role, is_active, user_id, last_login_at, invited_by,
       created_at, updated_at
FROM portal_users
WHERE email = %(email)s

-- name: user_by_id
-- One portal user (primary key).
SELECT id, email, name, picture, role, is_active, user_id, last_login_at, invited_by,
       created_at, updated_at
FROM portal_users
WHERE id = %(id)s

-- name: insert_user
-- A new portal user; nothing when the email already has one (the unique index decides).
INSERT INTO portal_users (id, email, role, invited_by)
VALUES (%(id)s, %(email)s, %(role)s, %(invited_by)s)
ON CONFLICT (email) DO NOTHING
RETURNING id, email, name, picture, role, is_active, user_id, last_login_at, invited_by,
          created_at, updated_at

-- name: bind_user
-- Bind a portal user to the wealist account that signs in first; nothing if already bound.
UPDATE portal_users SET user_id = %(user_id)s, updated_at = now()
WHERE id = %(id)s AND user_id IS NULL

-- name: record_login
-- The sign-in time; returns the row as it was before (last_login_at NULL: first sign-in).
UPDATE portal_users AS p SET last_login_at = now(), updated_at = now()
FROM portal_users AS before
WHERE p.id = %(id)s AND before.id = p.id
RETURNING before.last_login_at AS previous_login_at

-- name: list_users
-- Portal users newest first, after a keyset position (portal_users_created_idx).
SELECT id, email, name, picture, role, is_active, user_id, last_login_at, invited_by,
       created_at, updated_at
FROM portal_users
WHERE (created_at, id) < (%(at)s, %(after)s)
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s

-- name: lock_active_admins
-- Every active admin, locked until the transaction ends: role changes and deactivations
-- that could remove the last admin take turns (portal_users_admins_idx).
SELECT id FROM portal_users WHERE role = 'admin' AND is_active ORDER BY id FOR UPDATE

-- name: lock_user
-- One portal user, locked for a role or status change (primary key).
SELECT id, email, name, picture, role, is_active, user_id, last_login_at, invited_by,
       created_at, updated_at
FROM portal_users
WHERE id = %(id)s
FOR UPDATE

-- name: set_role
UPDATE portal_users SET role = %(role)s, updated_at = now() WHERE id = %(id)s

-- name: set_active
UPDATE portal_users SET is_active = %(active)s, updated_at = now() WHERE id = %(id)s
