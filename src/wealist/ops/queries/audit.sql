-- name: insert_audit
-- One audit entry; the table refuses UPDATE and DELETE (append-only trigger).
INSERT INTO audit_logs (id, user_id, user_email, action, resource_type, resource_id, details,
                        ip_address, user_agent)
VALUES (%(id)s, %(user_id)s, %(user_email)s, %(action)s, %(resource_type)s, %(resource_id)s,
        %(details)s, %(ip)s, %(agent)s)

-- name: audit_by_id
SELECT id, user_id, user_email, action, resource_type, resource_id, details, ip_address,
       user_agent, created_at
FROM audit_logs
WHERE id = %(id)s

-- name: list_audit
-- A page of the log, newest first, every filter optional (audit_logs_created_idx, or
-- audit_logs_user_idx with user_id). Keyset position (at, after) and/or an offset.
SELECT id, user_id, user_email, action, resource_type, resource_id, details, ip_address,
       user_agent, created_at
FROM audit_logs
WHERE (%(user_id)s::uuid IS NULL OR user_id = %(user_id)s::uuid)
  AND (%(resource_type)s::text IS NULL OR resource_type = %(resource_type)s::text)
  AND (%(action)s::text IS NULL OR action = %(action)s::text)
  AND (%(start)s::timestamptz IS NULL OR created_at >= %(start)s::timestamptz)
  AND (%(end)s::timestamptz IS NULL OR created_at <= %(end)s::timestamptz)
  AND (created_at, id) < (%(at)s, %(after)s)
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s OFFSET %(offset)s

-- name: count_audit
-- How many entries match the same filters (the page's ``total``).
SELECT count(*)
FROM audit_logs
WHERE (%(user_id)s::uuid IS NULL OR user_id = %(user_id)s::uuid)
  AND (%(resource_type)s::text IS NULL OR resource_type = %(resource_type)s::text)
  AND (%(action)s::text IS NULL OR action = %(action)s::text)
  AND (%(start)s::timestamptz IS NULL OR created_at >= %(start)s::timestamptz)
  AND (%(end)s::timestamptz IS NULL OR created_at <= %(end)s::timestamptz)
