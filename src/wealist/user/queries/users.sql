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
