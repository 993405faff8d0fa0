-- name: socket_seats
-- The heartbeat checks of every chat socket due on this process, in one statement: per
-- (chat, user) asked, the live chat's workspace, its newest seq and rev (one snapshot),
-- and whether the user is still an active participant. A chat deleted meanwhile has no
-- row. Primary key lookups of chats and chat_participants, one per pair.
SELECT d.chat_id, d.user_id, c.workspace_id, c.last_seq, c.last_rev,
       COALESCE(p.is_active, false) AS active
FROM unnest(%(chats)b::uuid[], %(users)b::uuid[]) AS d(chat_id, user_id)
JOIN chats c ON c.id = d.chat_id AND c.deleted_at IS NULL
LEFT JOIN chat_participants p ON p.chat_id = d.chat_id AND p.user_id = d.user_id
