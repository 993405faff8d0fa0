"""The storage service's logic, framework-free: ``access_*``/``check_*``/``do_*``.

One module per concern: ``projects`` (shared drives and members), ``folders``, ``files``
(one file and its versions), ``uploads`` (presigned PUT, confirm), ``listings`` (lists,
search, usage, trash), ``shares``, ``public`` (links) and ``cleanup`` (the scheduled job);
``common`` holds the access rules, names, quota and replies they share.
"""
