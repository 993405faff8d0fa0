"""video service: call rooms, LiveKit tokens and webhooks, TURN credentials, call history.

Owns: video_db (rooms, participants, call history, transcripts).
Redis: room state. Routes: /api/video/*.
"""
