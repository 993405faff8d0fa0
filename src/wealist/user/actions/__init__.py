"""The user service's logic, framework-free: ``access_*``/``check_*``/``do_*``/``notify_*``.

One module per resource: ``users``, ``workspaces``, ``members``, ``join_requests``,
``profiles``, ``images``; ``common`` holds access checks, the membership cache writer and
the notification helper they share.
"""
