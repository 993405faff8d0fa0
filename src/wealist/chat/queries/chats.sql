-- name: insert_chat
-- A chat and its participants in one statement. A DM whose pair already has one in the
-- workspace inserts nothing (chats_one_dm_per_pair) and returns no row.
WITH chat AS (
    INSERT INTO chats (id, workspace_id, project_id, chat_type, chat_name, created_by, dm_key)
    VALUES (%(id)s, %(workspace)s, %(project)s, %(type)s, %(name)s, %(me)s, %(dm_key)s)
    ON CONFLICT DO NOTHING
    RETURNING id
), people AS (
    INSERT INTO chat_participants (chat_id, user_id)
    SELECT chat.id, u FROM chat, unnest(%(users)s::uuid[]) AS u
)
SELECT id FROM chat

-- name: dm_of_pair
-- The live DM of a pair in a workspace (chats_one_dm_per_pair).
SELECT id FROM chats
WHERE workspace_id = %(workspace)s AND dm_key = %(dm_key)s AND deleted_at IS NULL

-- name: chat_detail
-- One live chat with its active participants (the participant list as camelCase JSON).
SELECT c.id, c.workspace_id, c.project_id, c.chat_type, c.chat_name, c.created_by, c.last_seq,
       c.last_rev, c.created_at, c.updated_at, c.deleted_at,
       COALESCE((
           SELECT json_agg(json_build_object(
                      'participantId', p.id, 'chatId', p.chat_id, 'userId', p.user_id,
                      'joinedAt', p.joined_at, 'lastReadAt', p.last_read_at,
                      'isActive', p.is_active, 'lastReadSeq', p.last_read_seq)
                  ORDER BY p.joined_at, p.id)
           FROM chat_participants p WHERE p.chat_id = c.id AND p.is_active
       ), '[]')::text AS participants
FROM chats c
WHERE c.id = %(chat)s AND c.deleted_at IS NULL

-- name: my_chats
-- The caller's live chats (optionally of one workspace), newest activity first, each with
-- its participants and the caller's unread count, in one statement: the caller's seats
-- (chat_participants_user_idx), then per chat an index range on messages (chat_id, seq).
SELECT c.id, c.workspace_id, c.project_id, c.chat_type, c.chat_name, c.created_by, c.last_seq,
       c.last_rev, c.created_at, c.updated_at, c.deleted_at,
       COALESCE((
           SELECT json_agg(json_build_object(
                      'participantId', p.id, 'chatId', p.chat_id, 'userId', p.user_id,
                      'joinedAt', p.joined_at, 'lastReadAt', p.last_read_at,
                      'isActive', p.is_active, 'lastReadSeq', p.last_read_seq)
                  ORDER BY p.joined_at, p.id)
           FROM chat_participants p WHERE p.chat_id = c.id AND p.is_active
       ), '[]')::text AS participants,
       (SELECT count(*) FROM messages m
        WHERE m.chat_id = c.id AND m.seq > me.last_read_seq AND m.user_id <> me.user_id
          AND m.deleted_at IS NULL)::int AS unread_count
FROM chat_participants me
JOIN chats c ON c.id = me.chat_id AND c.deleted_at IS NULL
WHERE me.user_id = %(me)s AND me.is_active
  AND (%(workspace)s::uuid IS NULL OR c.workspace_id = %(workspace)s)
  AND (c.updated_at, c.id) < (%(before_at)s, %(before_id)s)
ORDER BY c.updated_at DESC, c.id DESC
LIMIT %(limit)s

-- name: seat
-- A live chat and whether the user is an active participant (primary key lookups).
SELECT c.id, c.workspace_id, c.chat_type, c.created_by, c.last_seq, c.last_rev,
       COALESCE(p.is_active, false) AS active
FROM chats c
LEFT JOIN chat_participants p ON p.chat_id = c.id AND p.user_id = %(me)s
WHERE c.id = %(chat)s AND c.deleted_at IS NULL

-- name: delete_chat
-- Soft delete (contract 6.1); the chat disappears from every list.
UPDATE chats SET deleted_at = now(), updated_at = now()
WHERE id = %(chat)s AND deleted_at IS NULL

-- name: add_participants
-- Insert or reactivate; returns only those who were not active participants before.
INSERT INTO chat_participants AS p (chat_id, user_id)
SELECT %(chat)s, u FROM unnest(%(users)s::uuid[]) AS u
ON CONFLICT (chat_id, user_id) DO UPDATE
    SET is_active = true, joined_at = now(), last_read_seq = 0, last_read_at = NULL
    WHERE NOT p.is_active
RETURNING p.user_id

-- name: delete_workspace_chats
-- A deleted workspace's live chats, soft-deleted; their ids in one lock order.
WITH gone AS (
    UPDATE chats SET deleted_at = now(), updated_at = now()
    WHERE workspace_id = %(workspace)s AND deleted_at IS NULL
    RETURNING id
)
SELECT id FROM gone ORDER BY id

-- name: leave_workspace_chats
-- A user removed from a workspace leaves its chats; the chats they left, in one lock order.
WITH left_chats AS (
    UPDATE chat_participants p SET is_active = false
    FROM chats c
    WHERE c.id = p.chat_id AND c.workspace_id = %(workspace)s AND c.deleted_at IS NULL
      AND p.user_id = %(user)s AND p.is_active
    RETURNING p.chat_id
)
SELECT chat_id FROM left_chats ORDER BY chat_id

-- name: remove_participant
UPDATE chat_participants SET is_active = false
WHERE chat_id = %(chat)s AND user_id = %(user)s AND is_active

-- name: chat_workspaces_of_user
-- The workspaces the user chats in (the presence socket's default scope).
SELECT DISTINCT c.workspace_id
FROM chat_participants p JOIN chats c ON c.id = p.chat_id AND c.deleted_at IS NULL
WHERE p.user_id = %(me)s AND p.is_active
LIMIT %(limit)s
