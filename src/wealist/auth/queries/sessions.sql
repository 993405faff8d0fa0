-- name: create_session
INSERT INTO sessions (id, user_id, email, method, current_jti, user_agent, expires_at)
VALUES (%(id)s, %(user_id)s, %(email)s, %(method)s, %(jti)s, %(user_agent)s,
        now() + make_interval(secs => %(max_age_s)s))
RETURNING expires_at

-- name: rotate_session
-- The atomic claim: only one of two concurrent refreshes with the same token matches.
UPDATE sessions
SET current_jti = %(new_jti)s, last_used_at = now()
WHERE id = %(id)s AND current_jti = %(jti)s AND user_id = %(user_id)s
  AND revoked_at IS NULL AND expires_at > now()
RETURNING id, user_id, email, expires_at

-- name: get_session
SELECT id, user_id, current_jti, expires_at, revoked_at
FROM sessions WHERE id = %(id)s

-- name: revoke_session
-- Revokes one live session of a user; returns its id when it was live.
UPDATE sessions SET revoked_at = now(), revoke_reason = %(reason)s
WHERE id = %(id)s AND user_id = %(user_id)s AND revoked_at IS NULL
RETURNING id

-- name: revoke_other_sessions
UPDATE sessions SET revoked_at = now(), revoke_reason = %(reason)s
WHERE user_id = %(user_id)s AND id <> %(keep)s AND revoked_at IS NULL AND expires_at > now()
RETURNING id

-- name: list_live_sessions
SELECT id, method, user_agent, created_at, last_used_at, expires_at
FROM sessions
WHERE user_id = %(user_id)s AND revoked_at IS NULL AND expires_at > now()
ORDER BY created_at DESC
LIMIT 100

-- name: recently_revoked_sessions
-- Sessions whose access tokens may still be alive: revoked within one access-token life.
SELECT id, revoked_at
FROM sessions
WHERE revoked_at > now() - make_interval(secs => %(window_s)s)
