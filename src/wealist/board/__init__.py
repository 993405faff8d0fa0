"""board service: projects, tasks ("boards"), field options, comments, participants,
attachments, and the live board socket.

Owns board_db: projects (with ``event_seq``), project_members, project_join_requests,
field_options, boards (rank, version, reminder marks), participants, comments,
attachments, board_events (what sockets are sent, by per-project sequence number),
board_activity, and the shared outbox/inbox.
Redis: the ``project:{id}`` topic (fan-out of live events), ``online:project:{id}``
(connections, scored by expiry).
Routes: ``/api/projects``, ``/api/boards``, ``/api/comments``, ``/api/participants``,
``/api/attachments``, ``/api/field-options``, ``/api/join-requests``, WS
``/ws/project/{projectId}``; applies ``workspace.deleted`` and ``workspace.member_removed``.
Sends ``notification.requested`` events (assignments, mentions, comments, reminders).
"""
