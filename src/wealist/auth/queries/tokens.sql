-- name: revoke_token
INSERT INTO revoked_tokens (jti, expires_at)
VALUES (%(jti)s, to_timestamp(%(expires_at)s))
ON CONFLICT (jti) DO NOTHING

-- name: live_revoked_tokens
SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > now()

-- name: prune_revoked_tokens
DELETE FROM revoked_tokens WHERE expires_at < now() - interval '1 hour'
