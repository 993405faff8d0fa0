"""Graceful shutdown of a serving process: drain first, then let the server stop.

Granian stops a worker on SIGTERM (or SIGINT) by dropping every connection at once: an
open WebSocket sees a reset instead of a close code, an SSE stream is cut mid-event and
a request being handled loses its response. ``wealist serve`` therefore sets
``drain_on_sigterm``, and each worker takes SIGTERM over (:meth:`Shutdown.on_sigterm`):

1. readiness answers 503 at once, so Kubernetes and the gateway route new work elsewhere;
2. every hub is closed: each socket gets what was queued for it, then close code 1012
   ("service restart": reconnect and resume), each SSE stream ends (the client reconnects
   with its last id), and sockets or streams that open meanwhile are closed the same way;
3. it waits until no request, socket or stream is in flight (at most ``shutdown_drain_s``);
4. it sends itself SIGINT, Granian's other stop signal: the listener closes and the
   lifespan's cleanup runs.

A second SIGTERM changes nothing (an orchestrator may signal the worker and its parent);
SIGINT (Ctrl-C) still stops at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Iterator, Sequence

import structlog
from litestar.types import ASGIApp, Receive, Scope, Send

from wealist.core.realtime.hub import Hub

__all__ = ("Shutdown", "stop_granian_worker")

log = structlog.get_logger("wealist.shutdown")


def stop_granian_worker() -> None:
    """Hand over to Granian: SIGINT makes its worker close the listener and run the
    lifespan shutdown (the SIGTERM handler it installed was replaced by ours)."""
    os.kill(os.getpid(), signal.SIGINT)


class Shutdown:
    """One process's drain state: a count of requests in flight and the draining flag."""

    def __init__(self) -> None:
        self.draining = False
        self.inflight = 0
        self._idle: asyncio.Future[None] | None = None  # exists only while draining
        self._task: asyncio.Task[None] | None = None

    def track(self, app: ASGIApp) -> ASGIApp:
        """Wrap the app so every HTTP request, socket and stream counts while it runs."""

        async def tracked(scope: Scope, receive: Receive, send: Send) -> None:
            self.inflight += 1
            try:
                await app(scope, receive, send)
            finally:
                self.inflight -= 1
                if self.inflight == 0 and self._idle is not None and not self._idle.done():
                    self._idle.set_result(None)

        return tracked

    async def drain(self, hubs: Sequence[Hub], budget_s: float) -> bool:
        """Stop taking work, close sockets and streams, wait for what is in flight.

        Returns False when ``budget_s`` ran out with requests still in flight.
        """
        self.draining = True
        sockets = sum(hub.sockets for hub in hubs)
        log.info("shutdown.draining", inflight=self.inflight, sockets=sockets)
        self._idle = asyncio.get_running_loop().create_future()
        if self.inflight == 0:
            self._idle.set_result(None)
        for hub in hubs:
            await hub.close()
        try:
            await asyncio.wait_for(asyncio.shield(self._idle), budget_s)
        except TimeoutError:
            log.warning("shutdown.drain_timeout", inflight=self.inflight, budget_s=budget_s)
            return False
        log.info("shutdown.drained")
        return True

    @contextlib.contextmanager
    def on_sigterm(
        self,
        hubs: Sequence[Hub],
        budget_s: float,
        then: Callable[[], None] = stop_granian_worker,
    ) -> Iterator[None]:
        """While open, SIGTERM drains this process and then calls ``then``."""
        loop = asyncio.get_running_loop()

        def signalled() -> None:
            if self._task is None:  # a repeated SIGTERM does not cut the drain short
                self._task = loop.create_task(self._drain_then(hubs, budget_s, then))

        loop.add_signal_handler(signal.SIGTERM, signalled)
        try:
            yield
        finally:
            loop.remove_signal_handler(signal.SIGTERM)
            # The server is stopping (by our hand-over or by SIGINT): a drain still running
            # has nothing left to wait for.
            if self._task is not None and not self._task.done():
                self._task.cancel()

    async def _drain_then(
        self, hubs: Sequence[Hub], budget_s: float, then: Callable[[], None]
    ) -> None:
        try:
            await self.drain(hubs, budget_s)
        except Exception:  # stopping matters more than a clean drain
            log.exception("shutdown.drain_failed")
        then()
