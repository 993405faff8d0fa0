"""How ``wealist serve`` keeps Granian from respawning a worker that cannot start.

Granian (``respawn_failed_workers``) replaces a worker that dies, and gives up by itself
(the main process exits 1: "Worker crash loop detected") only when a respawned worker dies
again within 5.5 s of its respawn. A start-up that takes longer than that to fail (a slow
import on a loaded machine, a database that times out instead of refusing) would be
respawned forever, the service alive but never ready, its real error buried in a log
that repeats.

:class:`StartGuard` is Granian's target loader, so it runs in every worker before the app
is built. It counts start-ups begun since the last one that finished (the app's
``on_startup`` hooks ran, after every lifespan resource opened); once ``workers +
retries`` are unfinished in a row, the next worker refuses to start, says why, and stops
the main process, which exits 1: a supervisor (``wealist up``, Kubernetes) restarts the
service with a backoff, and the error stays the last thing in its log. A worker that had
started (a crash later on, a SIGKILL) resets the count by starting again.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

__all__ = ("START_RETRIES", "StartGuard")

# Start-ups (beyond one per worker) that may fail in a row before the service stops.
START_RETRIES = 2


class StartGuard:
    """Granian's ``target_loader``: counts unfinished worker start-ups across workers.

    Created in the main process before ``serve()``; the shared counters reach the workers
    with the loader (inherited on fork, pickled with the process on spawn).
    """

    def __init__(self, name: str, workers: int, retries: int = START_RETRIES) -> None:
        self.name = name
        self.limit = max(1, workers) + retries
        self._unfinished = multiprocessing.Value("i", 0)
        self._refused = multiprocessing.Value("b", 0)

    @property
    def refused(self) -> bool:
        """A worker refused to start: the service stopped because its start-ups failed."""
        return bool(self._refused.value)

    def __call__(self, target: str) -> Any:
        """In a worker: the app of ``target`` (``module:factory``), or stop the service."""
        with self._unfinished.get_lock():
            begun = self._unfinished.value
            self._unfinished.value = begun + 1
        if begun >= self.limit:
            self._refused.value = 1
            sys.stderr.write(
                f"wealist serve {self.name}: {begun} worker start-ups in a row did not finish "
                "(the errors are above); stopping instead of starting another\n"
            )
            sys.stderr.flush()
            os.kill(os.getppid(), signal.SIGTERM)  # Granian's main process stops, exit 1
            raise SystemExit(1)
        module, _, factory = target.partition(":")
        create: Callable[[], Any] = getattr(importlib.import_module(module), factory)
        app = create()
        app.on_startup.append(self._started)  # a Litestar app: after every lifespan manager
        return app

    def _started(self) -> None:
        with self._unfinished.get_lock():
            self._unfinished.value = 0
