"""What both chat sockets share: admission, per-socket limits, leases and a watchdog."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any, Literal

from litestar import WebSocket
from redis.exceptions import RedisError

from wealist.chat.actions.common import settings_of
from wealist.chat.actions.presence import Op, do_touch, do_touch_all, presence_of
from wealist.core.context import ServiceContext
from wealist.core.errors import AppError, Forbidden, NotFound
from wealist.core.realtime.hub import Subscriber
from wealist.core.realtime.ws import RATE_CLOSE_CODE, SessionLimits, error_frame

__all__ = (
    "CLIENT_GONE_CLOSE_CODE",
    "RATE_CLOSE_CODE",
    "TOO_MANY_SOCKETS_CLOSE_CODE",
    "Connection",
    "close_code_for",
    "limits_of",
    "refuse",
)

# Documented close codes (4xxx: the client's fault or its limits; see the service README).
BAD_REQUEST_CLOSE_CODE = 4400
FORBIDDEN_CLOSE_CODE = 4403
NOT_FOUND_CLOSE_CODE = 4404
CLIENT_GONE_CLOSE_CODE = 4408  # no frame from the client within ws_client_timeout_s
TOO_MANY_SOCKETS_CLOSE_CODE = 4409  # over ws_sockets_per_user


def close_code_for(exc: AppError) -> int:
    if isinstance(exc, NotFound):
        return NOT_FOUND_CLOSE_CODE
    if isinstance(exc, Forbidden):
        return FORBIDDEN_CLOSE_CODE
    return BAD_REQUEST_CLOSE_CODE


async def refuse(socket: WebSocket[Any, Any, Any], code: int, error: str, message: str) -> None:
    """Accept, say why in an ``ERROR`` frame, and close with ``code`` (so the client sees it)."""
    with contextlib.suppress(Exception):
        await socket.accept()
        await socket.send_text(error_frame(error, message))
        await socket.close(code=code, reason=message[:100])


def limits_of(ctx: ServiceContext) -> SessionLimits:
    settings = settings_of(ctx)
    return SessionLimits(
        heartbeat_s=settings.ws_heartbeat_s,
        max_frame_bytes=settings.ws_max_frame_bytes,
        close_timeout_s=2.0,
        frames_per_s=settings.ws_messages_per_s,
        rate_strikes=settings.ws_rate_strikes,
    )


class Connection:
    """One socket's leases (presence in its workspaces, its place in the user's socket
    count), and the watchdog that closes it when the client stops answering (its frame
    budget is the kernel's, ``limits_of``)."""

    def __init__(self, ctx: ServiceContext, user: str, workspaces: Iterable[str]) -> None:
        self.ctx = ctx
        self.settings = settings_of(ctx)
        self.user = user
        self.workspaces = list(workspaces)
        self.id = uuid.uuid4().hex
        self.presence = presence_of(ctx)
        self.heard = time.monotonic()
        self._renewed = time.monotonic()
        self._activity = time.monotonic()
        self._tasks: set[asyncio.Task[None]] = set()

    async def open(self) -> bool:
        """Count this socket; False when the user holds too many already."""
        most = self.settings.ws_sockets_per_user
        try:
            if not await self.presence.socket(self.user, self.id, "open", most):
                return False
            await do_touch_all(self.ctx, self.workspaces, self.user, self.id, "open")
        except RedisError as exc:  # messages do not depend on Redis: admit, uncounted
            self.ctx.log.warning("chat.presence_unavailable", error=type(exc).__name__)
        return True

    async def close(self) -> None:
        # Redis away: the leases run out by themselves.
        await self._leases("close", "close")

    async def _leases(self, op: Op, count: Literal["renew", "close"]) -> list[object]:
        """The socket's count and its presence in every workspace, side by side: they
        travel in one round trip, with those of the other sockets doing the same now."""
        return await asyncio.gather(
            self.presence.socket(self.user, self.id, count, 0),
            *(do_touch(self.ctx, w, self.user, self.id, op) for w in self.workspaces),
            return_exceptions=True,
        )

    def heard_from_client(self, *, active: bool) -> None:
        """A frame arrived: the client lives (and, if ``active``, its user is at it)."""
        now = time.monotonic()
        self.heard = now
        renew_every = self.settings.presence_lease_s / 3
        if active and now - self._activity > min(renew_every, self.settings.presence_away_s / 10):
            self._activity = self._renewed = now
            self._spawn(self._touch_all("active"))
        elif now - self._renewed > renew_every:
            self._renewed = now
            self._spawn(self._touch_all("renew"))

    async def _touch_all(self, op: Op) -> None:
        for failed in await self._leases(op, "renew"):
            if isinstance(failed, Exception):  # presence is best-effort; the lease decides
                self.ctx.log.warning("chat.presence_touch_failed", error=type(failed).__name__)
                return

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @asynccontextmanager
    async def watchdog(self, sub: Subscriber) -> AsyncIterator[None]:
        """Close the socket (4408) when the client sent nothing for ``ws_client_timeout_s``."""

        async def watch() -> None:
            timeout = self.settings.ws_client_timeout_s
            while not sub.closed.is_set():
                await asyncio.sleep(max(0.05, timeout / 4))
                if time.monotonic() - self.heard > timeout:
                    sub.shut(CLIENT_GONE_CLOSE_CODE)

        task = asyncio.ensure_future(watch())
        try:
            yield
        finally:
            task.cancel()
            for pending in [task, *self._tasks]:
                with contextlib.suppress(BaseException):
                    await pending
