"""video service: call rooms, LiveKit tokens and webhooks, TURN credentials, call history.

Owns: video_db (rooms, room_participants, call_histories, call_transcripts,
livekit_webhook_events; the shared outbox/inbox). Talks to: LiveKit's RoomService (create
and delete rooms, list and remove participants), the user service (membership through
``core.membership``; display names from workspace profiles).
Routes: /api/video/* (contract 9), POST /api/video/webhooks/livekit,
GET /api/video/turn-credentials, POST /api/internal/events/video (workspace events).
Settings: :class:`wealist.video.settings.VideoSettings` (``WEALIST_VIDEO_*``).
"""
