"""The video service's logic, framework-free: ``access_*``/``check_*``/``do_*``.

``rooms`` (create, list, read), ``calls`` (join, leave, end, remove), ``history``
(call history and transcripts), ``livekit_events`` (webhooks and the reconciliation
sweep), ``workspace_events`` (outbox events from the user service), ``turn`` (TURN
credentials); ``common`` holds ids, access and reply shapes.
"""
