-- name: options_of_project
-- A project's field options, by type then display order (init-settings, the list).
SELECT id, project_id, field_type, value, label, color, display_order, is_system_default,
       created_at, updated_at
FROM field_options
WHERE project_id = %(project)s AND (%(type)s::text IS NULL OR field_type = %(type)s)
ORDER BY field_type, display_order, created_at, id

-- name: options_of_member_projects
-- Without a projectId: the options of the projects the caller is a member of.
SELECT o.id, o.project_id, o.field_type, o.value, o.label, o.color, o.display_order,
       o.is_system_default, o.created_at, o.updated_at
FROM field_options o
JOIN project_members m ON m.project_id = o.project_id AND m.user_id = %(user)s
WHERE (%(type)s::text IS NULL OR o.field_type = %(type)s)
ORDER BY o.project_id, o.field_type, o.display_order, o.created_at, o.id
LIMIT 1000

-- name: option_project
SELECT project_id FROM field_options WHERE id = %(id)s

-- name: option_by_id
SELECT id, project_id, field_type, value, label, color, display_order, is_system_default,
       created_at, updated_at
FROM field_options WHERE id = %(id)s

-- name: insert_option
INSERT INTO field_options (project_id, field_type, value, label, color, display_order)
VALUES (%(project)s, %(type)s, %(value)s, %(label)s, %(color)s, %(order)s)
ON CONFLICT ON CONSTRAINT field_options_project_type_value_key DO NOTHING
RETURNING id, project_id, field_type, value, label, color, display_order, is_system_default,
          created_at, updated_at

-- name: update_option
UPDATE field_options SET
    label = coalesce(%(label)s, label),
    color = coalesce(%(color)s, color),
    display_order = coalesce(%(order)s, display_order),
    updated_at = now()
WHERE id = %(id)s
RETURNING id, project_id, field_type, value, label, color, display_order, is_system_default,
          created_at, updated_at

-- name: delete_option
DELETE FROM field_options WHERE id = %(id)s AND NOT is_system_default

-- name: option_in_use
SELECT EXISTS (SELECT 1 FROM boards
               WHERE project_id = %(project)s AND custom_fields->>%(type)s = %(value)s)
