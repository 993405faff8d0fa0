"""The storage service's logic: ``access_*``/``check_*``/``do_*``/``notify_*``, framework-free."""

from __future__ import annotations
