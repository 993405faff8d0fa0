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
-- The users not yet participants are added, in the order given; returns who was added.
INSERT INTO participants (board_id, user_id, created_at)
SELECT %(board)s, u.id, clock_timestamp()
FROM unnest(%(users)s::uuid[]) WITH ORDINALITY AS u (id, n) ORDER BY u.n
ON CONFLICT ON CONSTRAINT participants_board_user_key DO NOTHING
RETURNING user_id

-- name: board_view
-- One board as the API shows it (the board_view view: shape written once).
SELECT * FROM board_view WHERE id = %(id)s

-- name: list_boards
-- The project's boards matching the filter (custom_fields contains it), in column order
-- (the stage option's display order), then rank.
SELECT v.*
FROM boards b
JOIN board_view v ON v.id = b.id
LEFT JOIN field_options stage
       ON stage.project_id = b.project_id AND stage.field_type = 'stage'
      AND stage.value = b.custom_fields->>'stage'
WHERE b.project_id = %(project)s AND b.custom_fields @> %(filter)s::jsonb
ORDER BY stage.display_order NULLS LAST, b.rank

-- name: project_boards_for
-- A project's boards as one reader sees them, in one round trip: every row carries the
-- project's workspace, the reader's project role and the live board's sequence number
-- (read in the same snapshot as the boards, so a socket resuming from it misses nothing);
-- a project without matching boards gives one row whose board columns are NULL
-- (has_board false); no row: no such project. Column order, then rank, as list_boards.
SELECT p.workspace_id AS seat_workspace_id, m.role_name AS seat_role, p.event_seq AS seat_seq,
       v.id IS NOT NULL AS has_board, v.*
FROM projects p
LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = %(user)s
LEFT JOIN LATERAL (
    SELECT v.*, stage.display_order AS stage_order
    FROM boards b
    JOIN board_view v ON v.id = b.id
    LEFT JOIN field_options stage
           ON stage.project_id = b.project_id AND stage.field_type = 'stage'
          AND stage.value = b.custom_fields->>'stage'
    WHERE b.project_id = p.id AND b.custom_fields @> %(filter)s::jsonb
) v ON true
WHERE p.id = %(project)s
ORDER BY v.stage_order NULLS LAST, v.rank

-- name: search_boards
-- Boards of a workspace (or one project) whose title or content contains the text, newest
-- change first, keyset on (updated_at, id). ILIKE rechecks each trigram candidate, so
-- short and non-Latin needles ("일정") match too.
SELECT v.*
FROM boards b
JOIN projects p ON p.id = b.project_id
JOIN board_view v ON v.id = b.id
WHERE p.workspace_id = %(workspace)s
  AND (%(project)s::uuid IS NULL OR b.project_id = %(project)s)
  AND (b.title ILIKE %(pattern)s ESCAPE '\' OR b.content ILIKE %(pattern)s ESCAPE '\')
  AND (%(before_at)s::timestamptz IS NULL
       OR (b.updated_at, b.id) < (%(before_at)s, %(before_id)s::uuid))
ORDER BY b.updated_at DESC, b.id DESC
LIMIT %(limit)s

-- name: move_board
UPDATE boards SET custom_fields = jsonb_set(custom_fields, ARRAY[%(field)s::text],
                                            to_jsonb(%(value)s::text)),
                  rank = %(rank)s, version = version + 1, updated_at = now()
WHERE id = %(id)s AND project_id = %(project)s

-- name: update_board
-- Every column at once (the action merged the change into the current values).
UPDATE boards SET title = %(title)s, content = %(content)s,
                  custom_fields = %(custom_fields)s, assignee_id = %(assignee)s,
                  start_date = %(start)s, due_date = %(due)s,
                  version = version + 1, updated_at = now()
WHERE id = %(id)s

-- name: touch_board
UPDATE boards SET version = version + 1, updated_at = now() WHERE id = %(id)s

-- name: delete_board
DELETE FROM boards WHERE id = %(id)s

-- name: board_project
-- Which project a board is in (before locking that project).
SELECT project_id FROM boards WHERE id = %(id)s

-- name: participants_of_board
SELECT id, board_id, user_id, created_at
FROM participants WHERE board_id = %(board)s
ORDER BY created_at, user_id

-- name: replace_participants
-- The participant set becomes ``users`` (kept ones keep their row); returns who was added.
WITH gone AS (
    DELETE FROM participants
    WHERE board_id = %(board)s AND NOT (user_id = ANY(%(users)s::uuid[]))
)
INSERT INTO participants (board_id, user_id, created_at)
SELECT %(board)s, u.id, clock_timestamp()
FROM unnest(%(users)s::uuid[]) WITH ORDINALITY AS u (id, n) ORDER BY u.n
ON CONFLICT ON CONSTRAINT participants_board_user_key DO NOTHING
RETURNING user_id

-- name: remove_participant
DELETE FROM participants WHERE board_id = %(board)s AND user_id = %(user)s

-- name: insert_activity
INSERT INTO board_activity (board_id, actor_id, action, changes)
VALUES (%(board)s, %(actor)s, %(action)s, %(changes)s)

-- name: activity_of_board
-- Newest first; keyset on id.
SELECT id, board_id, actor_id, action, changes::text AS changes, created_at
FROM board_activity
WHERE board_id = %(board)s AND (%(before)s::bigint IS NULL OR id < %(before)s)
ORDER BY id DESC
LIMIT %(limit)s

-- name: claim_due_soon
-- Boards due within the window that were not reminded for this due date, claimed so that
-- several replicas never remind twice; done and deleted stages are skipped.
UPDATE boards b SET due_soon_for = b.due_date
FROM (SELECT id FROM boards
      WHERE due_date > now() AND due_date <= now() + make_interval(secs => %(window)s)
        AND due_soon_for IS DISTINCT FROM due_date
        AND coalesce(custom_fields->>'stage', '') NOT IN ('approved', 'deleted')
      ORDER BY due_date LIMIT %(limit)s
      FOR UPDATE SKIP LOCKED) due, projects p
WHERE b.id = due.id AND p.id = b.project_id
RETURNING b.id, p.name AS project_name

-- name: claim_overdue
UPDATE boards b SET overdue_for = b.due_date, due_soon_for = b.due_date
FROM (SELECT id FROM boards
      WHERE due_date <= now() AND overdue_for IS DISTINCT FROM due_date
        AND coalesce(custom_fields->>'stage', '') NOT IN ('approved', 'deleted')
      ORDER BY due_date LIMIT %(limit)s
      FOR UPDATE SKIP LOCKED) due, projects p
WHERE b.id = due.id AND p.id = b.project_id
RETURNING b.id, p.name AS project_name
