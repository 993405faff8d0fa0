-- name: delete_workspace_notifications
-- A deleted workspace takes its notifications and preference rows with it; returns the
-- users whose unread counts changed (notifications_workspace_idx).
WITH prefs AS (
    DELETE FROM notification_preferences WHERE workspace_id = %(workspace)s
),
gone AS (
    DELETE FROM notifications WHERE workspace_id = %(workspace)s
    RETURNING target_user_id
)
SELECT DISTINCT target_user_id FROM gone

-- name: delete_member_notifications
-- A removed member loses what the workspace told them before the removal, except the
-- notice of the removal itself (the one thing they should still read).
WITH prefs AS (
    DELETE FROM notification_preferences
    WHERE user_id = %(user)s AND workspace_id = %(workspace)s
)
DELETE FROM notifications
WHERE target_user_id = %(user)s AND workspace_id = %(workspace)s
  AND created_at <= %(before)s AND type <> 'WORKSPACE_REMOVED'
