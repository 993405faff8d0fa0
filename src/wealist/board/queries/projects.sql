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

-- name: lock_project
-- The project with the caller's role, locked: board writes of one project apply one at a
-- time, so two moves never compute the same rank and a renumbering sees every card.
SELECT p.id, p.workspace_id, p.owner_id, p.name, p.description, p.is_public, p.start_date,
       p.due_date, p.created_at, p.updated_at, m.role_name AS role
FROM projects p
LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = %(user)s
WHERE p.id = %(id)s
FOR UPDATE OF p

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

-- name: search_projects
-- A workspace's projects whose name or description contains the text (ILIKE, pg_trgm
-- index on the name), with the total; offset pages as the contract's page/limit.
SELECT id, workspace_id, owner_id, name, description, is_public, start_date, due_date,
       created_at, updated_at, count(*) OVER () AS total
FROM projects
WHERE workspace_id = %(workspace)s
  AND (name ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\')
ORDER BY created_at, id
LIMIT %(limit)s OFFSET %(offset)s

-- name: member_by_user
SELECT id, project_id, user_id, role_name, joined_at
FROM project_members
WHERE project_id = %(project)s AND user_id = %(user)s

-- name: set_member_role
UPDATE project_members SET role_name = %(role)s
WHERE project_id = %(project)s AND user_id = %(user)s
RETURNING id, project_id, user_id, role_name, joined_at

-- name: transfer_ownership
-- The project's OWNER becomes ADMIN and ``user`` becomes OWNER, in one statement (the
-- one-owner index is checked at its end).
UPDATE project_members
SET role_name = CASE WHEN user_id = %(user)s THEN 'OWNER' ELSE 'ADMIN' END
WHERE project_id = %(project)s AND (user_id = %(user)s OR role_name = 'OWNER')

-- name: set_project_owner
UPDATE projects SET owner_id = %(user)s, updated_at = now() WHERE id = %(project)s

-- name: remove_member
DELETE FROM project_members WHERE project_id = %(project)s AND user_id = %(user)s

-- name: add_member
INSERT INTO project_members (project_id, user_id, role_name)
VALUES (%(project)s, %(user)s, 'MEMBER')
ON CONFLICT ON CONSTRAINT project_members_project_user_key DO NOTHING

-- name: remove_user_everywhere
-- A user left the workspace: drop their project memberships there (not an OWNER's).
DELETE FROM project_members m
USING projects p
WHERE p.id = m.project_id AND p.workspace_id = %(workspace)s AND m.user_id = %(user)s
  AND m.role_name <> 'OWNER'

-- name: projects_owned_in
SELECT p.id FROM projects p
JOIN project_members m ON m.project_id = p.id AND m.role_name = 'OWNER'
WHERE p.workspace_id = %(workspace)s AND m.user_id = %(user)s

-- name: delete_workspace_projects
DELETE FROM projects WHERE workspace_id = %(workspace)s RETURNING id

-- name: bump_event_seq
-- The next sequence number of the project's events (row-locked until commit: gapless).
UPDATE projects SET event_seq = event_seq + 1 WHERE id = %(project)s RETURNING event_seq
