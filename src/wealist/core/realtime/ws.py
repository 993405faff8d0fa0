"""The WebSocket session loop every socket endpoint runs.

A transport authenticates (before accept), authorizes through its ``actions``, then hands
the socket to :func:`run_session` with the topics to join, a typed ``msgspec`` decoder for
client frames and a handler. The loop owns what no endpoint should repeat: the frame size
limit, a frame-rate budget (every client frame counts, malformed ones and pings too:
``RATE_LIMITED`` error frames, then 4429), ``ping`` -> ``pong``, a heartbeat frame at most
every 30 s, an access re-check the moment the user service says the socket's user lost a
workspace (``AccessWatch``; 4403 when it is gone), one writer task per
socket draining its bounded queue (sends to different sockets never wait on each other),
closing a socket whose queue overflowed, and closing every socket with 1012 when the
process drains for a restart - after the frame being handled and what is queued went out.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import msgspec
import structlog
from litestar import WebSocket

from wealist.contracts import topics as topic_names
from wealist.contracts.membership import lost_workspace
from wealist.core.errors import AppError, TokenRejected
from wealist.core.jobs import cancel_and_wait
from wealist.core.jsonguard import has_nul
from wealist.core.realtime.hub import OVERFLOW_CLOSE_CODE, Hub, Subscriber
from wealist.core.security import Principal
from wealist.core.tickets import socket_credential

if TYPE_CHECKING:
    from wealist.core.context import ServiceContext

__all__ = (
    "DEFAULT_LIMITS",
    "FORBIDDEN_CLOSE_CODE",
    "HEARTBEAT",
    "PONG",
    "RATE_CLOSE_CODE",
    "AccessWatch",
    "Ping",
    "SessionLimits",
    "authenticate_socket",
    "error_frame",
    "run_session",
)

log = structlog.get_logger("wealist.ws")

F = TypeVar("F")

PONG = '{"type":"pong"}'
HEARTBEAT = '{"type":"heartbeat"}'
AUTH_CLOSE_CODE = 4401
TOO_BIG_CLOSE_CODE = 1009
RATE_CLOSE_CODE = 4429  # kept sending over the frame budget
FORBIDDEN_CLOSE_CODE = 4403  # its user lost access to what it follows
INTERNAL_ERROR_CLOSE_CODE = 1011
ABNORMAL_CLOSE_CODE = 1006  # never sent: the peer went away without a close frame
MAX_HEARTBEAT_S = 30.0
# Queued behind the last frame when a restart closes the socket: the writer stops there.
# Compared by identity; no frame from the hub or a handler is this object.
_FLUSHED = "\x00flushed"


class Ping(msgspec.Struct, tag="ping", tag_field="type"):
    """``{"type":"ping"}``; include it in a service's client-frame union."""


class SessionLimits(msgspec.Struct, frozen=True):
    heartbeat_s: float = 25.0  # capped at 30 s; 0 turns heartbeats off
    max_frame_bytes: int = 65_536  # UTF-8 bytes of one client frame
    close_timeout_s: float = 5.0  # how long a close frame may wait on a peer that does not read
    frames_per_s: float = 0.0  # client frames a second, in bursts of 2 s' worth; 0: unlimited
    rate_strikes: int = 20  # frames refused in a row before the socket closes (4429)


class _FrameBudget:
    """A token bucket over one socket's client frames."""

    def __init__(self, per_s: float) -> None:
        self.per_s = per_s
        self.tokens = per_s * 2
        self.filled_at = time.monotonic()
        self.strikes = 0  # frames refused in a row

    def spend(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.per_s * 2, self.tokens + (now - self.filled_at) * self.per_s)
        self.filled_at = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.strikes = 0
            return True
        self.strikes += 1
        return False


DEFAULT_LIMITS = SessionLimits()


def error_frame(code: str, message: str) -> str:
    """The contract's error frame: ``{"type":"ERROR","code":...,"message":...}``."""
    return msgspec.json.encode({"type": "ERROR", "code": code, "message": message}).decode()


async def authenticate_socket(
    socket: WebSocket[Any, Any, Any], ctx: ServiceContext
) -> Principal | None:
    """Verify ``?ticket=`` (or ``?token=`` unless ``socket_query_token`` is off) before
    accepting; a refused one closes the handshake (HTTP 403)."""
    allow = ctx.settings.socket_query_token
    try:
        token = await socket_credential(socket.query_params, ctx.tickets, allow_token=allow)
        return await ctx.verifier.verify(token)
    except TokenRejected as exc:
        log.info("ws.auth_rejected", reason=exc.reason.name)
        await socket.close(code=AUTH_CLOSE_CODE, reason=exc.message)
        return None


Admit = Callable[[str], Awaitable[list[str]]]


class AccessWatch(NamedTuple):
    """Whose socket it is, and what to ask when the user service signals that this user
    lost a workspace (``topics.access``): ``still_allowed(workspace_id)``; False closes the
    socket with 4403. A check that fails (an outage) keeps it: the service's periodic
    check decides later."""

    user_id: str
    still_allowed: Callable[[str], Awaitable[bool]]


async def _allowed(access: AccessWatch, workspace: str) -> bool:
    try:
        return await access.still_allowed(workspace)
    except Exception as exc:  # noqa: BLE001  # cannot tell now: keep the socket
        log.warning("ws.access_check_failed", error=type(exc).__name__)
        return True


async def _writer(
    socket: WebSocket[Any, Any, Any],
    subscriber: Subscriber,
    first: Iterable[str],
    admit: Admit | None,
    access: AccessWatch | None,
) -> None:
    # One writer per socket: a socket whose peer does not read blocks only here, and its
    # queue then overflows into a 1013 close; sends to other sockets never wait on it.
    send = socket.send
    for frame in first:
        await send({"type": "websocket.send", "bytes": None, "text": frame})
    queue = subscriber.queue
    while True:
        frame = await queue.get()
        if frame is _FLUSHED:
            return
        if access is not None and (workspace := lost_workspace(frame)) is not None:
            if not await _allowed(access, workspace):  # the signal itself is never sent
                subscriber.shut(FORBIDDEN_CLOSE_CODE)
            continue
        if admit is None:
            await send({"type": "websocket.send", "bytes": None, "text": frame})
            continue
        for admitted in await admit(frame):
            await send({"type": "websocket.send", "bytes": None, "text": admitted})


async def _heartbeat(subscriber: Subscriber, every: float, frame: Callable[[], str]) -> None:
    while True:
        await asyncio.sleep(every)
        subscriber.offer(frame())


def _default_heartbeat() -> str:
    return HEARTBEAT


async def run_session(
    socket: WebSocket[Any, Any, Any],
    hub: Hub,
    *,
    topics: Iterable[str],
    decoder: msgspec.json.Decoder[F],
    handler: Callable[[F, Subscriber], Awaitable[None]],
    limits: SessionLimits = DEFAULT_LIMITS,
    heartbeat: Callable[[], str] = _default_heartbeat,
    subscriber: Subscriber | None = None,
    on_joined: Callable[[Subscriber], Awaitable[Iterable[str] | None]] | None = None,
    admit: Admit | None = None,
    access: AccessWatch | None = None,
) -> int:
    """Serve a socket until either side closes; returns the close code.

    The topics are joined before anything else; a socket not accepted yet is accepted
    only then, so a client that sees the handshake complete knows that every event
    published from then on reaches it.

    ``on_joined`` runs after the topics are subscribed and before frames are read: the
    place to replay what a resuming client missed. The frames it returns are sent first,
    by the socket's writer; live events queue up behind them (and count against the
    queue while the replay is being sent).

    ``admit`` (e.g. a :class:`~wealist.core.realtime.sequence.Sequencer`'s) decides, in the
    socket's writer, what each queued frame becomes: dropped, sent, or sent after the
    frames missing before it.

    ``access``: the socket also follows its user's access signals (``AccessWatch``).
    """
    sub = subscriber or hub.subscriber()
    if access is not None:
        topics = [*topics, topic_names.access(access.user_id)]
    tasks: list[asyncio.Task[Any]] = []
    code = 1000
    idle = asyncio.Event()  # set while the reader handles no client frame
    idle.set()
    try:
        for topic in topics:
            await hub.join(sub, topic)
        if socket.connection_state == "init":
            try:
                await socket.accept()
            except Exception:  # noqa: BLE001  # the client left while the topics were joined
                return ABNORMAL_CLOSE_CODE
        first: Iterable[str] = ()
        if on_joined is not None and not sub.closed.is_set():
            first = await on_joined(sub) or ()
        tasks = [
            asyncio.create_task(_writer(socket, sub, first, admit, access)),
            asyncio.create_task(_reader(socket, sub, decoder, handler, limits, idle=idle)),
            asyncio.create_task(sub.closed.wait()),
        ]
        if limits.heartbeat_s > 0:
            every = min(limits.heartbeat_s, MAX_HEARTBEAT_S)
            tasks.append(asyncio.create_task(_heartbeat(sub, every, heartbeat)))
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        code = _close_code(done, sub)
        if sub.closed.is_set() and code != OVERFLOW_CLOSE_CODE:
            # our close: what was queued before it (an ack, the error frame saying why)
            # still goes out; an overflowing queue is one its peer does not read.
            await _flush(tasks[0], sub, idle, limits.close_timeout_s)
    except Exception:
        code = INTERNAL_ERROR_CLOSE_CODE  # e.g. on_joined failed: tell the client, then raise
        raise
    finally:
        await cancel_and_wait(tasks, wait_s=limits.close_timeout_s)
        await hub.leave(sub)
        await _close(socket, code, limits.close_timeout_s)
    return code


async def _flush(
    writer: asyncio.Task[Any], sub: Subscriber, idle: asyncio.Event, wait_s: float
) -> None:
    """We close the socket (a restart, a policy): the client frame being handled finishes
    (its ack is queued), the reader takes no other, and the writer sends what is queued.

    The frame being handled is a request in flight: like an HTTP request, only the
    process's drain budget bounds it (core.shutdown). Sending what is queued is bounded
    like a close frame, by ``wait_s``: the peer may not be reading.
    """
    await idle.wait()
    with contextlib.suppress(Exception):  # TimeoutError included: then close regardless
        async with asyncio.timeout(wait_s):
            await sub.queue.put(_FLUSHED)
            await writer


async def _close(socket: WebSocket[Any, Any, Any], code: int, wait_s: float) -> None:
    """Send the close frame; a peer that does not read may never take it: do not wait forever."""
    if socket.connection_state == "disconnect":
        return
    with contextlib.suppress(Exception):  # the peer may be gone already
        await asyncio.wait_for(socket.close(code=code), wait_s)


def _close_code(done: set[asyncio.Task[Any]], sub: Subscriber) -> int:
    if sub.closed.is_set():
        return sub.close_code
    for task in done:
        if not task.cancelled() and task.exception() is None:
            result = task.result()
            if isinstance(result, int) and not isinstance(result, bool):
                return result
    return 1000


def _frame_bytes(raw: str | bytes) -> int:
    if isinstance(raw, bytes):
        return len(raw)
    # UTF-8 needs at most 4 bytes per character: only encode when it could matter.
    return len(raw) if raw.isascii() else len(raw.encode())


async def _reader(
    socket: WebSocket[Any, Any, Any],
    sub: Subscriber,
    decoder: msgspec.json.Decoder[F],
    handler: Callable[[F, Subscriber], Awaitable[None]],
    limits: SessionLimits,
    *,
    idle: asyncio.Event,
) -> int:
    budget = _FrameBudget(limits.frames_per_s) if limits.frames_per_s > 0 else None
    while True:
        message = await socket.receive()
        if sub.closed.is_set():  # closing: the client sends this again after it reconnects
            return 1000
        if message["type"] == "websocket.disconnect":
            return int(message.get("code", 1000))
        if message["type"] != "websocket.receive":
            continue
        raw: str | bytes | None = message.get("text") or message.get("bytes")
        if not raw:
            continue
        if _frame_bytes(raw) > limits.max_frame_bytes:
            return TOO_BIG_CLOSE_CODE
        if budget is not None and not budget.spend():
            if budget.strikes >= limits.rate_strikes:
                sub.shut(RATE_CLOSE_CODE)  # what is queued (the error frames) goes out first
                return RATE_CLOSE_CODE
            sub.offer(error_frame("RATE_LIMITED", "too many frames; slow down"))
            continue
        await _take(raw, sub, decoder, handler, idle)


async def _take(
    raw: str | bytes,
    sub: Subscriber,
    decoder: msgspec.json.Decoder[F],
    handler: Callable[[F, Subscriber], Awaitable[None]],
    idle: asyncio.Event,
) -> None:
    """Decode one client frame and hand it on (``ping`` is answered here)."""
    try:
        frame = decoder.decode(raw)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        sub.offer(error_frame("INVALID_MESSAGE", str(exc)))
        return
    except RecursionError:  # an Any field of the frame type, nested a thousand deep
        sub.offer(error_frame("INVALID_MESSAGE", "frame nested too deep"))
        return
    if has_nul(raw):  # text columns cannot hold one: refused before the handler writes
        sub.offer(error_frame("INVALID_MESSAGE", "NUL characters are not allowed"))
        return
    if isinstance(frame, Ping):
        sub.offer(PONG)
        return
    idle.clear()
    try:
        await handler(frame, sub)
    except AppError as exc:
        sub.offer(error_frame(exc.code, exc.message))
    except Exception:
        log.exception("ws.handler_failed")
        sub.offer(error_frame("INTERNAL_ERROR", "Internal server error"))
    finally:
        idle.set()
