-- name: claim_webhook
-- The first delivery of a LiveKit event inserts its id; redeliveries insert nothing.
INSERT INTO livekit_webhook_events (id, event) VALUES (%(id)s, %(event)s)
ON CONFLICT DO NOTHING

-- name: prune_webhooks
DELETE FROM livekit_webhook_events
WHERE received_at < now() - make_interval(secs => %(retention)s)
