-- The chat's event log: every change a client shows (a message, an edit, a deletion, a
-- reaction, a read cursor, a participant joining or leaving, the chat's deletion) gets the
-- chat's next ``rev`` in the transaction that makes it, and its frame is stored here with
-- it, so a socket resuming from a rev is sent exactly what it missed, in order (reliability
-- T10). Messages keep their own gapless ``seq``; ``messages.rev`` is the rev of the event
-- that announced the message (how ``?after=<seq>`` finds where to resume).
--
-- Chats and messages from before this log get revs equal to their seqs, with no events:
-- a socket resuming from before the log is told to RESET, as one past the retention is.
ALTER TABLE chats ADD COLUMN last_rev bigint NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN rev bigint NOT NULL DEFAULT 0;
UPDATE chats SET last_rev = last_seq WHERE last_seq > 0;
UPDATE messages SET rev = seq;

-- No foreign key: a deleted chat's last event (CHAT_DELETED) stays until it ages out.
CREATE TABLE chat_events (
    chat_id    uuid        NOT NULL,
    rev        bigint      NOT NULL,
    frame      text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (chat_id, rev)
);

CREATE INDEX chat_events_created_idx ON chat_events (created_at);
