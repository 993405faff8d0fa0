"""The board service's logic, framework-free: ``access_*``/``check_*``/``do_*``/``notify_*``.

One module per resource (``projects``, ``boards``); ``common`` holds ids and access.
"""
