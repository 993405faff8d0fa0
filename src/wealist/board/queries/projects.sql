-- name: insert_project
-- The project, its OWNER and the 13 default field options (contract 5.6), in one statement.
WITH project AS (
    INSERT INTO projects (id, workspace_id, owner_id, name, description, start_date, due_date)
    VALUES (%(id)s, %(workspace)s, %(owner)s, %(name)s, %(description)s, %(start)s, %(due)s)
    RETURNING *
), owner AS (
    INSERT INTO project_members (project_id, user_id, role_name)
    SELECT id, owner_id, 'OWNER' FROM project
), options AS (
    INSERT INTO field_options (project_id, field_type, value, label, color, display_order,
                               is_system_default)
    SELECT project.id, d.field_type, d.value, d.label, d.color, d.display_order, true
    FROM project, (VALUES
        ('stage', 'pending', '대기', '#F59E0B', 1),
        ('stage', 'in_progress', '진행중', '#3B82F6', 2),
        ('stage', 'review', '검토', '#8B5CF6', 3),
        ('stage', 'approved', '완료', '#10B981', 4),
        ('stage', 'deleted', '삭제', '#EF4444', 5),
        ('importance', 'urgent', '긴급', '#EF4444', 1),
        ('importance', 'high', '높음', '#F97316', 2),
        ('importance', 'normal', '보통', '#10B981', 3),
        ('importance', 'low', '낮음', '#6B7280', 4),
        ('role', 'developer', '개발자', '#8B5CF6', 1),
        ('role', 'planner', '기획자', '#EC4899', 2),
        ('role', 'designer', '디자이너', '#F59E0B', 3),
        ('role', 'qa', 'QA', '#06B6D4', 4)
    ) AS d (field_type, value, label, color, display_order)
)
SELECT id, workspace_id, owner_id, name, description, is_public, start_date, due_date,
       created_at, updated_at
FROM project

-- name: project_by_id
-- The project and the caller's role in it (NULL when the caller is not a project member).
SELECT p.id, p.workspace_id, p.owner_id, p.name, p.description, p.is_public, p.start_date,
       p.due_date, p.created_at, p.updated_at, m.role_name AS role
FROM projects p
LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = %(user)s
WHERE p.id = %(id)s

-- name: projects_of_workspace
SELECT id, workspace_id, owner_id, name, description, is_public, start_date, due_date,
       created_at, updated_at
FROM projects
WHERE workspace_id = %(workspace)s
ORDER BY created_at, id

-- name: default_project
SELECT id, workspace_id, owner_id, name, description, is_public, start_date, due_date,
       created_at, updated_at
FROM projects
WHERE workspace_id = %(workspace)s AND is_default

-- name: update_project
-- NULL keeps a field; the dates are set together (the CHECK keeps start <= due).
UPDATE projects SET
    name = coalesce(%(name)s, name),
    description = coalesce(%(description)s, description),
    start_date = CASE WHEN %(set_start)s THEN %(start)s ELSE start_date END,
    due_date = CASE WHEN %(set_due)s THEN %(due)s ELSE due_date END,
    updated_at = now()
WHERE id = %(id)s
RETURNING id, workspace_id, owner_id, name, description, is_public, start_date, due_date,
          created_at, updated_at

-- name: delete_project
DELETE FROM projects WHERE id = %(id)s

-- name: project_members
SELECT id, project_id, user_id, role_name, joined_at
FROM project_members
WHERE project_id = %(id)s
ORDER BY joined_at, id
