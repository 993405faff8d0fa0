-- name: active_configs
-- What clients read: every active config, by key (app_configs_active_idx).
SELECT id, key, value, description, is_active, updated_by, created_at, updated_at
FROM app_configs
WHERE deleted_at IS NULL AND is_active
ORDER BY key

-- name: all_configs
-- What the portal manages: every live config, active or not, by key.
SELECT id, key, value, description, is_active, updated_by, created_at, updated_at
FROM app_configs
WHERE deleted_at IS NULL
ORDER BY key
LIMIT %(limit)s

-- name: active_config_by_key
SELECT id, key, value, description, is_active, updated_by, created_at, updated_at
FROM app_configs
WHERE key = %(key)s AND deleted_at IS NULL AND is_active

-- name: insert_config
-- A new key; nothing when a live row has it (app_configs_key_key decides).
INSERT INTO app_configs (id, key, value, description, updated_by)
VALUES (%(id)s, %(key)s, %(value)s, %(description)s, %(by)s)
ON CONFLICT (key) WHERE deleted_at IS NULL DO NOTHING
RETURNING id, key, value, description, is_active, updated_by, created_at, updated_at

-- name: update_config
UPDATE app_configs
SET value = %(value)s,
    description = coalesce(%(description)s, description),
    is_active = coalesce(%(active)s, is_active),
    updated_by = %(by)s,
    updated_at = now()
WHERE id = %(id)s AND deleted_at IS NULL
RETURNING id, key, value, description, is_active, updated_by, created_at, updated_at

-- name: delete_config
-- Soft delete: the key can be created again; returns the key, or nothing when gone.
UPDATE app_configs SET deleted_at = now(), updated_by = %(by)s
WHERE id = %(id)s AND deleted_at IS NULL
RETURNING key
