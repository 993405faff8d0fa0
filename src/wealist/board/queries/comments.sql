-- name: insert_comment
INSERT INTO comments (id, board_id, user_id, content)
VALUES (%(id)s, %(board)s, %(user)s, %(content)s)

-- name: comment_view
-- One comment with its confirmed attachments (JSON) and where it lives.
SELECT c.id, c.board_id, b.project_id, c.user_id, c.content, c.created_at, c.updated_at,
       (SELECT coalesce(json_agg(a.* ORDER BY a.created_at, a.id), '[]')::text
        FROM (SELECT id, file_name, file_key, file_size, content_type, uploaded_by, created_at
              FROM attachments
              WHERE entity_id = c.id AND entity_type = 'COMMENT' AND status = 'CONFIRMED') a
       ) AS attachments
FROM comments c
JOIN boards b ON b.id = c.board_id
WHERE c.id = %(id)s

-- name: comments_of_board
-- Oldest first (the contract's order), with attachments; the board's comments at once.
SELECT c.id, c.board_id, b.project_id, c.user_id, c.content, c.created_at, c.updated_at,
       (SELECT coalesce(json_agg(a.* ORDER BY a.created_at, a.id), '[]')::text
        FROM (SELECT id, file_name, file_key, file_size, content_type, uploaded_by, created_at
              FROM attachments
              WHERE entity_id = c.id AND entity_type = 'COMMENT' AND status = 'CONFIRMED') a
       ) AS attachments
FROM comments c
JOIN boards b ON b.id = c.board_id
WHERE c.board_id = %(board)s
ORDER BY c.created_at, c.id

-- name: comment_project
SELECT b.project_id FROM comments c JOIN boards b ON b.id = c.board_id WHERE c.id = %(id)s

-- name: update_comment
UPDATE comments SET content = %(content)s, updated_at = now() WHERE id = %(id)s

-- name: delete_comment
DELETE FROM comments WHERE id = %(id)s
