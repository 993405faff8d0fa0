-- name: preferences_in_scope
-- The user's global preference rows, and those of one workspace when given.
SELECT workspace_id, type, in_app, email FROM notification_preferences
WHERE user_id = %(user)s
  AND (workspace_id IS NULL OR workspace_id = %(workspace)s::uuid)

-- name: add_preference_rows
-- Make sure a row exists for each type in the scope, so the update below can lock it.
INSERT INTO notification_preferences (user_id, workspace_id, type)
SELECT %(user)s, %(workspace)s::uuid, unnest(%(types)s::text[])
ON CONFLICT DO NOTHING

-- name: update_preferences
-- Apply each type's channel changes; a channel whose ``set_*`` flag is false keeps its
-- value, so two clients changing different channels at once both win.
UPDATE notification_preferences p
SET in_app = CASE WHEN c.set_in_app THEN c.in_app ELSE p.in_app END,
    email = CASE WHEN c.set_email THEN c.email ELSE p.email END,
    updated_at = now()
FROM unnest(%(types)s::text[], %(set_in_app)s::boolean[], %(in_app)s::boolean[],
            %(set_email)s::boolean[], %(email)s::boolean[])
     AS c(type, set_in_app, in_app, set_email, email)
WHERE p.user_id = %(user)s AND p.type = c.type
  AND coalesce(p.workspace_id, '00000000-0000-0000-0000-000000000000'::uuid)
      = coalesce(%(workspace)s::uuid, '00000000-0000-0000-0000-000000000000'::uuid)

-- name: get_recipient
SELECT email FROM email_recipients WHERE user_id = %(user)s

-- name: save_recipient
-- The address digests go to: the one of the token that last turned email on.
INSERT INTO email_recipients (user_id, email) VALUES (%(user)s, %(email)s)
ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, updated_at = now()
WHERE email_recipients.email <> excluded.email
