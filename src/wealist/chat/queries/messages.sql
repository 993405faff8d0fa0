-- name: messages_after
-- History forwards from a seq (messages_chat_seq_key), oldest first; deleted ones skipped.
SELECT m.id, m.chat_id, m.seq, m.user_id, m.content, m.message_type, m.file_url, m.file_name,
       m.file_size, m.client_message_id, m.created_at, m.updated_at, m.deleted_at,
       COALESCE((SELECT json_agg(json_build_object('emoji', r.emoji, 'count', r.n,
                                                   'userIds', r.ids) ORDER BY r.first)
                 FROM (SELECT emoji, count(*) AS n, array_agg(user_id ORDER BY created_at) AS ids,
                              min(created_at) AS first
                       FROM message_reactions WHERE message_id = m.id GROUP BY emoji) r),
                '[]')::text AS reactions
FROM messages m
WHERE m.chat_id = %(chat)s AND m.seq > %(after)s AND m.seq <= %(upto)s AND m.deleted_at IS NULL
ORDER BY m.seq
LIMIT %(limit)s

-- name: messages_before
-- History backwards from a seq (messages_chat_seq_key), newest first (the caller reverses).
SELECT m.id, m.chat_id, m.seq, m.user_id, m.content, m.message_type, m.file_url, m.file_name,
       m.file_size, m.client_message_id, m.created_at, m.updated_at, m.deleted_at,
       COALESCE((SELECT json_agg(json_build_object('emoji', r.emoji, 'count', r.n,
                                                   'userIds', r.ids) ORDER BY r.first)
                 FROM (SELECT emoji, count(*) AS n, array_agg(user_id ORDER BY created_at) AS ids,
                              min(created_at) AS first
                       FROM message_reactions WHERE message_id = m.id GROUP BY emoji) r),
                '[]')::text AS reactions
FROM messages m
WHERE m.chat_id = %(chat)s AND m.seq < %(before)s AND m.deleted_at IS NULL
ORDER BY m.seq DESC
LIMIT %(limit)s

-- name: seq_of_message
-- The seq of a message of this chat (the original's before=<messageId> cursor).
SELECT seq FROM messages WHERE id = %(message)s AND chat_id = %(chat)s

-- name: message_with_seat
-- A live message of a live chat, and whether the caller is an active participant there.
SELECT m.id, m.chat_id, m.seq, m.user_id, m.content, m.message_type, m.file_url, m.file_name,
       m.file_size, m.client_message_id, m.created_at, m.updated_at, m.deleted_at,
       c.workspace_id, COALESCE(p.is_active, false) AS active
FROM messages m
JOIN chats c ON c.id = m.chat_id AND c.deleted_at IS NULL
LEFT JOIN chat_participants p ON p.chat_id = m.chat_id AND p.user_id = %(me)s
WHERE m.id = %(message)s AND m.deleted_at IS NULL

-- name: edit_message
-- The edited message as history shows it, its reactions included (the reply and the
-- MESSAGE_UPDATED frame replace a client's copy of the message).
UPDATE messages m SET content = %(content)s, updated_at = now()
WHERE m.id = %(message)s AND m.deleted_at IS NULL
RETURNING m.id, m.chat_id, m.seq, m.user_id, m.content, m.message_type, m.file_url, m.file_name,
          m.file_size, m.client_message_id, m.created_at, m.updated_at, m.deleted_at,
          COALESCE((SELECT json_agg(json_build_object('emoji', r.emoji, 'count', r.n,
                                                      'userIds', r.ids) ORDER BY r.first)
                    FROM (SELECT emoji, count(*) AS n,
                                 array_agg(user_id ORDER BY created_at) AS ids,
                                 min(created_at) AS first
                          FROM message_reactions WHERE message_id = m.id GROUP BY emoji) r),
                   '[]')::text AS reactions

-- name: delete_message
UPDATE messages SET deleted_at = now(), updated_at = now()
WHERE id = %(message)s AND deleted_at IS NULL

-- name: add_reaction
INSERT INTO message_reactions (message_id, user_id, emoji) VALUES (%(message)s, %(me)s, %(emoji)s)
ON CONFLICT DO NOTHING

-- name: remove_reaction
DELETE FROM message_reactions WHERE message_id = %(message)s AND user_id = %(me)s AND emoji = %(emoji)s

-- name: visible_messages
-- How many of the given ids are live messages in chats the caller takes part in.
SELECT count(*)::int AS visible
FROM messages m
JOIN chats c ON c.id = m.chat_id AND c.deleted_at IS NULL
JOIN chat_participants p ON p.chat_id = m.chat_id AND p.user_id = %(me)s AND p.is_active
WHERE m.id = ANY(%(ids)s::uuid[]) AND m.deleted_at IS NULL

-- name: advance_read_cursors
-- Moves the caller's read cursor of each chat to the newest given message there (never
-- backwards); returns the cursors that moved.
WITH seen AS (
    SELECT m.chat_id, max(m.seq) AS seq, (array_agg(m.id ORDER BY m.seq DESC))[1] AS message_id
    FROM messages m
    JOIN chat_participants p ON p.chat_id = m.chat_id AND p.user_id = %(me)s AND p.is_active
    WHERE m.id = ANY(%(ids)s::uuid[]) AND m.deleted_at IS NULL
    GROUP BY m.chat_id
)
UPDATE chat_participants p
SET last_read_seq = seen.seq, last_read_at = now()
FROM seen
WHERE p.chat_id = seen.chat_id AND p.user_id = %(me)s AND p.last_read_seq < seen.seq
RETURNING p.chat_id, seen.message_id, seen.seq

-- name: read_all
-- The caller has read everything in the chat (PUT .../last-read). No row: the cursor
-- was there already (nothing to announce).
WITH newest AS (
    SELECT m.id, m.seq FROM messages m
    WHERE m.chat_id = %(chat)s AND m.deleted_at IS NULL
    ORDER BY m.seq DESC LIMIT 1
)
UPDATE chat_participants p
SET last_read_seq = newest.seq, last_read_at = now()
FROM newest
WHERE p.chat_id = %(chat)s AND p.user_id = %(me)s AND p.is_active
  AND p.last_read_seq < newest.seq
RETURNING p.chat_id, newest.id AS message_id, newest.seq AS seq

-- name: unread_count
SELECT count(*)::int
FROM messages m
JOIN chat_participants p ON p.chat_id = m.chat_id AND p.user_id = %(me)s
WHERE m.chat_id = %(chat)s AND m.seq > p.last_read_seq AND m.user_id <> %(me)s
  AND m.deleted_at IS NULL

-- name: search_messages
-- Substring search (ILIKE, messages_content_trgm for 3+ characters) in the caller's live
-- chats, newest first, keyset by (created_at, id).
SELECT m.id, m.chat_id, m.seq, m.user_id, m.content, m.message_type, m.file_url, m.file_name,
       m.file_size, m.client_message_id, m.created_at, m.updated_at, m.deleted_at
FROM messages m
JOIN chat_participants p ON p.chat_id = m.chat_id AND p.user_id = %(me)s AND p.is_active
JOIN chats c ON c.id = m.chat_id AND c.deleted_at IS NULL
WHERE m.deleted_at IS NULL AND m.content ILIKE %(pattern)s
  AND (%(workspace)s::uuid IS NULL OR c.workspace_id = %(workspace)s)
  AND (%(chat)s::uuid IS NULL OR m.chat_id = %(chat)s)
  AND (m.created_at, m.id) < (%(before_at)s, %(before_id)s)
ORDER BY m.created_at DESC, m.id DESC
LIMIT %(limit)s
