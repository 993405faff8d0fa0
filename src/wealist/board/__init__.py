"""board service: projects, tasks, fields, comments, attachments, kanban WebSocket.

Owns: board_db (projects, boards, comments, participants, field options, attachments).
Redis: kanban fan-out, online sets.
Routes: /api/projects, /api/boards, ..., WS /ws/project/{projectId}.
"""
