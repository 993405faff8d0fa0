"""The chat service's logic: ``access_*``/``check_*``/``do_*``/``notify_*``, framework-free.

Access policy: whoever is not an active member of a chat's workspace gets 404 for it and
everything in it; a workspace member who does not take part in the chat gets 403 (the
original's answer for non-participants).
"""
