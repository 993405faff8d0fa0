-- name: send_state
-- What a batch of sends needs before it is written, one row per send in the order given:
-- the chat's workspace and active participants (no row of chats: not a live chat), and
-- the message already stored for the send, if any: ours (an earlier attempt of the same
-- batch committed, its answer lost with the link: found by the id we chose, primary key)
-- or the original of a retried clientMessageId (messages_client_message_key), with the
-- frame that announced it.
WITH asked AS (
    SELECT a.n, a.id, a.chat_id, a.user_id, a.client_id
    FROM unnest(%(ids)b::uuid[], %(chats)b::uuid[], %(users)b::uuid[], %(client_ids)b::text[])
         WITH ORDINALITY AS a(id, chat_id, user_id, client_id, n)
), rooms AS (
    SELECT c.id, c.workspace_id,
           ARRAY(SELECT p.user_id FROM chat_participants p
                 WHERE p.chat_id = c.id AND p.is_active ORDER BY p.user_id) AS members
    FROM chats c
    WHERE c.id IN (SELECT chat_id FROM asked) AND c.deleted_at IS NULL
)
SELECT r.workspace_id, COALESCE(r.members, '{}') AS members,
       m.id AS found_id, m.ours AS found_ours, m.seq AS found_seq, m.content AS found_content,
       m.message_type AS found_message_type, m.file_url AS found_file_url,
       m.file_name AS found_file_name, m.file_size AS found_file_size,
       m.client_message_id AS found_client_message_id, m.created_at AS found_created_at,
       m.updated_at AS found_updated_at, m.deleted_at AS found_deleted_at,
       e.frame AS found_event
FROM asked a
LEFT JOIN rooms r ON r.id = a.chat_id
LEFT JOIN LATERAL (
    (SELECT o.*, true AS ours FROM messages o WHERE o.id = a.id AND o.chat_id = a.chat_id)
    UNION ALL
    (SELECT k.*, false FROM messages k
     WHERE k.chat_id = a.chat_id AND k.user_id = a.user_id AND k.client_message_id = a.client_id)
    LIMIT 1
) m ON true
LEFT JOIN chat_events e ON e.chat_id = m.chat_id AND e.rev = m.rev
ORDER BY a.n

-- name: lock_chats
-- The live chats of a batch of sends, locked until commit in one order (by id, so two
-- writers never wait on each other in a cycle), with their counters as of the lock and
-- the transaction's time (every message of the batch is created at it).
SELECT id, last_seq, last_rev, now() AS now
FROM chats
WHERE id = ANY(%(chats)b::uuid[]) AND deleted_at IS NULL
ORDER BY id
FOR UPDATE

-- name: insert_messages
-- A batch of messages whose seqs and revs were taken from the locked counters: the rows,
-- their events, and the chats' counters moved past them, in one statement. A message is
-- stored only while its sender is an active participant (read after the lock, so a
-- removal that committed meanwhile counts). The counters move to the newest stored row:
-- unless every row was stored (the count says), the caller rolls back, or the seqs
-- would have a gap.
WITH new AS (
    SELECT *
    FROM unnest(%(ids)b::uuid[], %(chats)b::uuid[], %(seqs)b::bigint[], %(revs)b::bigint[],
                %(users)b::uuid[], %(contents)b::text[], %(types)b::text[],
                %(file_urls)b::text[], %(file_names)b::text[], %(file_sizes)b::bigint[],
                %(client_ids)b::text[], %(frames)b::text[])
         AS n(id, chat_id, seq, rev, user_id, content, message_type, file_url, file_name,
              file_size, client_message_id, frame)
), stored AS (
    INSERT INTO messages (id, chat_id, seq, rev, user_id, content, message_type, file_url,
                          file_name, file_size, client_message_id, created_at, updated_at)
    SELECT n.id, n.chat_id, n.seq, n.rev, n.user_id, n.content, n.message_type, n.file_url,
           n.file_name, n.file_size, n.client_message_id, %(at)s, %(at)s
    FROM new n
    WHERE EXISTS (SELECT 1 FROM chat_participants p
                  WHERE p.chat_id = n.chat_id AND p.user_id = n.user_id AND p.is_active)
    ON CONFLICT DO NOTHING
    RETURNING chat_id, seq, rev
), events AS (
    INSERT INTO chat_events (chat_id, rev, frame)
    SELECT n.chat_id, n.rev, n.frame FROM new n JOIN stored s USING (chat_id, rev)
), counters AS (
    UPDATE chats c SET last_seq = t.seq, last_rev = t.rev, updated_at = now()
    FROM (SELECT chat_id, max(seq) AS seq, max(rev) AS rev FROM stored GROUP BY chat_id) t
    WHERE c.id = t.chat_id
)
SELECT count(*)::int FROM stored
