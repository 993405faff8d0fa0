-- name: lock_project
-- The project with the caller's role, locked: board writes of one project apply one at a
-- time, so two moves never compute the same rank and a renumbering sees every card.
SELECT p.id, p.workspace_id, p.owner_id, p.name, p.description, p.is_public, p.start_date,
       p.due_date, p.created_at, p.updated_at, m.role_name AS role
FROM projects p
LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = %(user)s
WHERE p.id = %(id)s
FOR UPDATE OF p

-- name: option_values
-- The option values of a project, per field type (what customFields may hold).
SELECT field_type, value FROM field_options WHERE project_id = %(project)s

-- name: last_rank_in_group
SELECT max(rank) FROM boards
WHERE project_id = %(project)s AND custom_fields->>%(field)s = %(value)s
  AND id <> %(exclude)s

-- name: rank_after
-- The smallest rank above ``rank`` (the card's own excluded).
SELECT min(rank) FROM boards
WHERE project_id = %(project)s AND rank > %(rank)s AND id <> %(exclude)s

-- name: rank_before
SELECT max(rank) FROM boards
WHERE project_id = %(project)s AND rank < %(rank)s AND id <> %(exclude)s

-- name: board_rank
SELECT rank FROM boards WHERE id = %(id)s AND project_id = %(project)s

-- name: project_ranks
SELECT id FROM boards WHERE project_id = %(project)s ORDER BY rank

-- name: renumber
UPDATE boards b SET rank = v.rank
FROM unnest(%(ids)s::uuid[], %(ranks)s::text[]) AS v (id, rank)
WHERE b.id = v.id

-- name: insert_board
INSERT INTO boards (id, project_id, author_id, assignee_id, title, content, custom_fields,
                    rank, start_date, due_date)
VALUES (%(id)s, %(project)s, %(author)s, %(assignee)s, %(title)s, %(content)s,
        %(custom_fields)s, %(rank)s, %(start)s, %(due)s)

-- name: add_participants
INSERT INTO participants (board_id, user_id)
SELECT %(board)s, unnest(%(users)s::uuid[])
ON CONFLICT ON CONSTRAINT participants_board_user_key DO NOTHING

-- name: board_view
-- One board as the API shows it, with its project's workspace and participants.
SELECT b.id, b.project_id, p.workspace_id, b.author_id, b.assignee_id, b.title, b.content,
       b.custom_fields::text AS custom_fields, b.rank, b.start_date, b.due_date,
       b.created_at, b.updated_at,
       coalesce((SELECT array_agg(pa.user_id ORDER BY pa.created_at, pa.user_id)
                 FROM participants pa WHERE pa.board_id = b.id), '{}') AS participant_ids
FROM boards b
JOIN projects p ON p.id = b.project_id
WHERE b.id = %(id)s

-- name: list_boards
-- The project's boards matching the filter (custom_fields contains it), in column order
-- (the stage option's display order), then rank.
SELECT b.id, b.project_id, p.workspace_id, b.author_id, b.assignee_id, b.title, b.content,
       b.custom_fields::text AS custom_fields, b.rank, b.start_date, b.due_date,
       b.created_at, b.updated_at,
       coalesce((SELECT array_agg(pa.user_id ORDER BY pa.created_at, pa.user_id)
                 FROM participants pa WHERE pa.board_id = b.id), '{}') AS participant_ids
FROM boards b
JOIN projects p ON p.id = b.project_id
LEFT JOIN field_options stage
       ON stage.project_id = b.project_id AND stage.field_type = 'stage'
      AND stage.value = b.custom_fields->>'stage'
WHERE b.project_id = %(project)s AND b.custom_fields @> %(filter)s::jsonb
ORDER BY stage.display_order NULLS LAST, b.rank

-- name: move_board
UPDATE boards SET custom_fields = jsonb_set(custom_fields, ARRAY[%(field)s::text],
                                            to_jsonb(%(value)s::text)),
                  rank = %(rank)s, updated_at = now()
WHERE id = %(id)s AND project_id = %(project)s

-- name: delete_board
DELETE FROM boards WHERE id = %(id)s
