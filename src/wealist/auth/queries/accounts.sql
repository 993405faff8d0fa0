-- name: create_password_account
INSERT INTO password_accounts (user_id, email, password_hash)
VALUES (%(user_id)s, %(email)s, %(password_hash)s)
ON CONFLICT DO NOTHING
RETURNING user_id

-- name: get_password_account
SELECT user_id, email, password_hash FROM password_accounts WHERE lower(email) = lower(%(email)s)

-- name: update_password_hash
UPDATE password_accounts SET password_hash = %(password_hash)s, updated_at = now()
WHERE user_id = %(user_id)s

-- name: touch_identity
-- The user of a known identity, recording this login.
UPDATE identities SET last_login_at = now(), email = %(email)s
WHERE issuer = %(issuer)s AND subject = %(subject)s
RETURNING user_id

-- name: link_identity
INSERT INTO identities (issuer, subject, user_id, email)
VALUES (%(issuer)s, %(subject)s, %(user_id)s, %(email)s)
ON CONFLICT (issuer, subject) DO UPDATE SET last_login_at = now()
RETURNING user_id
