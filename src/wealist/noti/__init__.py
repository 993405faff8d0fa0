"""noti service: stored notifications, preferences, the SSE stream with replay, digests.

Owns: noti_db (``notifications`` with a per-user stream ``seq``, ``notification_streams``,
``notification_preferences``, ``email_recipients``, plus the shared outbox/inbox tables).
Redis: the unread-count cache ``unread:{userId}:{workspaceId}`` (with a generation key),
and fan-out on ``user:{userId}`` (one broker subscription per user per process).
Routes: ``/api/notifications`` (list, unread-count, read, read-all, delete, preferences),
SSE ``/api/notifications/stream``, internal ``/api/internal/notifications[/bulk]`` and the
kernel's ``/api/internal/events/noti`` (``notification.requested``, ``workspace.deleted``,
``workspace.member_removed``). Jobs: retention and email digests (``hooks``).
"""
