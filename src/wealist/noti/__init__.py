"""noti service: stored notifications, preferences, SSE stream, digests.

Owns: noti_db (notifications, preferences, inbox of consumed events).
Redis: per-user fan-out, unread cache. Routes: /api/notifications/*, SSE /api/notifications/stream.
"""
