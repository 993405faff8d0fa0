"""The noti service's logic, framework-free: ``access_*``/``check_*``/``do_*``.

``notifications`` (create, list, count, read, delete), ``events`` (outbox events),
``preferences``, ``stream`` (SSE replay and live), ``digests`` (email), ``retention``;
``common`` holds ids, the unread cache and the fan-out they share.
"""
