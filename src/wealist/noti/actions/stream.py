"""A user's notification stream: replay what a reconnecting client missed, then live
events, without a gap or a duplicate.

Every notification shown in the app has a per-user ``seq`` (its SSE ``id:``), gapless
and in commit order. A stream subscribes to the user's topic first, then replays from
the database everything after the client's ``Last-Event-ID``, remembering the last seq
it sent. Live frames at or below it were replayed already and are dropped; a frame that
skips a seq means one was lost or is still on its way, so the stream replays from the
database up to the frame (the database has it: publishing follows the commit). When the
broker reconnects after an outage, the stream replays too; and every
``sse_tail_check_s`` each process compares its open streams with the database (one query
for all of them), so a notification whose publish was lost (its process died between
commit and publish) still arrives. A client too far behind, or behind what retention
deleted, gets a ``reset`` event and refetches over REST.

State changes (``read``, ``read-all``, ``deleted``) are sent as they come, carrying the
id of the last notification the stream sent, so a resume point never moves past a
notification the client has not seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import UUID

import msgspec

from wealist.contracts import topics
from wealist.core.context import ServiceContext
from wealist.core.realtime.hub import Hub, Subscriber
from wealist.core.realtime.sse import PING, format_event, reset_event
from wealist.noti import store
from wealist.noti.actions.common import replayed_out, settings_of
from wealist.noti.frames import GAP, parse, with_id
from wealist.noti.metrics import metrics_of

__all__ = ("StreamRequest", "check_tails", "notification_stream", "parse_resume")

_encode = msgspec.json.Encoder().encode
CONNECTED = '{"status":"connected"}'


@dataclass(frozen=True)
class StreamRequest:
    user: UUID
    workspace: UUID | None  # only this workspace's events (additive ``?workspaceId=``)
    resume: int | None  # the client's Last-Event-ID; None: a first connection
    resume_invalid: bool  # a Last-Event-ID that is not one of ours: the client resets
    expires_at: float | None  # epoch seconds: the stream ends with its access token


def parse_resume(raw: str | None) -> tuple[int | None, bool]:
    """(the resume seq, whether the given value was unusable)."""
    if raw is None:
        return None, False
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw), False
    return None, True


class _Stream:
    def __init__(self, ctx: ServiceContext, hub: Hub, request: StreamRequest) -> None:
        self.ctx = ctx
        self.hub = hub
        self.request = request
        self.settings = settings_of(ctx)
        self.workspace = str(request.workspace) if request.workspace else None
        self.last = 0  # the seq the client is known to have (sent, or skipped as filtered)
        self.subscriber: Subscriber = hub.subscriber(on_gap=self._gap)
        self.delivered = metrics_of(ctx).delivered

    async def _gap(self) -> None:
        self.subscriber.offer(GAP)  # a full queue closes the stream: the client resumes

    def _wanted(self, workspace_id: str) -> bool:
        return self.workspace is None or self.workspace == workspace_id

    async def catch_up(self) -> AsyncIterator[bytes]:
        """Send what the database holds after ``self.last``, page by page; a client too far
        behind (or behind deleted history) gets ``reset`` and jumps to the head."""
        page = self.settings.sse_replay_page
        first = True
        while True:
            async with self.ctx.database.connection() as conn:
                rows = await store.replay(
                    conn, self.request.user, self.last, self.request.workspace, page
                )
            head, purged = rows[0].head, rows[0].purged
            if first and (
                self.last > head
                or self.last < purged
                or head - self.last > self.settings.sse_replay_max
            ):
                yield self._reset("gap", head)
                return
            first = False
            found = [r for r in rows if r.seq is not None]
            for row in found:
                seq = row.seq or 0
                self.last = seq
                body = format_event(_encode(replayed_out(row)).decode(), event="notification")
                self.delivered.inc()
                yield with_id(body, seq)
            if len(found) < page:
                self.last = max(self.last, head)  # the rest up to head: filtered out or gone
                return

    def _reset(self, reason: str, head: int) -> bytes:
        self.last = head
        return with_id(reset_event(reason), head)

    async def opening(self) -> AsyncIterator[bytes]:
        """``connected`` (with the resume point and the retry delay), then the replay."""
        request = self.request
        retry = self.settings.sse_retry_ms
        if request.resume is None:
            async with self.ctx.database.connection() as conn:
                head = (await store.stream_head(conn, request.user)).last_seq
            self.last = head
            yield format_event(CONNECTED, event="connected", id=str(head), retry_ms=retry)
            if request.resume_invalid:
                yield self._reset("invalid", head)
            return
        self.last = request.resume
        yield format_event(CONNECTED, event="connected", id=str(request.resume), retry_ms=retry)
        async for chunk in self.catch_up():
            yield chunk

    async def live(self, frame: str) -> AsyncIterator[bytes]:
        if frame == GAP:
            async for chunk in self.catch_up():
                yield chunk
            return
        parsed = parse(frame)
        if parsed is None:
            return
        if parsed.kind == "s":
            if self._wanted(parsed.workspace_id):
                yield with_id(parsed.event, self.last)
            return
        if parsed.seq <= self.last:
            return  # replayed already
        if parsed.seq > self.last + 1:
            async for chunk in self.catch_up():  # the database has this one and the missing
                yield chunk
            return
        self.last = parsed.seq
        if self._wanted(parsed.workspace_id):
            self.delivered.inc()
            yield with_id(parsed.event, parsed.seq)

    def _wait_s(self) -> float:
        ping = self.settings.sse_ping_s
        expires = self.request.expires_at
        if expires is None or not self.settings.sse_close_on_expiry:
            return ping
        return max(0.0, min(ping, expires - time.time()))

    def _expired(self) -> bool:
        expires = self.request.expires_at
        return self.settings.sse_close_on_expiry and expires is not None and time.time() >= expires

    async def run(self) -> AsyncIterator[bytes]:
        sub = self.subscriber
        await self.hub.join(sub, topics.user(str(self.request.user)))
        async for chunk in self.opening():
            yield chunk
        queue = sub.queue
        closed = asyncio.ensure_future(sub.closed.wait())
        getter: asyncio.Future[str] | None = None
        opened = _open_streams(self.ctx).setdefault(self.request.user, set())
        opened.add(self)
        try:
            while not sub.closed.is_set() and not self._expired():
                if not queue.empty():  # no task per frame while frames are waiting
                    async for chunk in self.live(queue.get_nowait()):
                        yield chunk
                    continue
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait(
                    {getter, closed}, timeout=self._wait_s(), return_when=asyncio.FIRST_COMPLETED
                )
                if getter not in done:
                    getter.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await getter
                got, getter = getter, None
                if not got.cancelled():  # a frame, even one that raced the cancellation
                    async for chunk in self.live(got.result()):
                        yield chunk
                elif not done and not self._expired():
                    yield PING
        finally:
            opened.discard(self)
            if not opened:
                _open_streams(self.ctx).pop(self.request.user, None)
            closed.cancel()
            if getter is not None:
                getter.cancel()


def _open_streams(ctx: ServiceContext) -> dict[UUID, set[_Stream]]:
    found: dict[UUID, set[_Stream]] = ctx.state.setdefault("noti.open_streams", {})
    return found


async def check_tails(ctx: ServiceContext) -> int:
    """Nudge every open stream of this process that is behind the database to catch up
    (a periodic job); returns how many were behind."""
    opened = _open_streams(ctx)
    if not opened:
        return 0
    async with ctx.database.connection() as conn:
        heads = await store.stream_heads(conn, list(opened))
    behind = 0
    for user, streams in list(opened.items()):
        for stream in list(streams):
            if stream.last < heads.get(user, 0):
                behind += 1
                stream.subscriber.offer(GAP)
    return behind


async def notification_stream(ctx: ServiceContext, request: StreamRequest) -> AsyncIterator[bytes]:
    """The SSE body of one client's stream, until the client leaves, its queue overflows,
    its token expires or the service stops. The client resumes with its last id."""
    hub = ctx.hub
    assert hub is not None  # the noti spec is realtime: the context has a hub
    stream = _Stream(ctx, hub, request)
    metrics = metrics_of(ctx)
    metrics.streams_opened.inc()
    metrics.streams_active.inc()
    try:
        async for chunk in stream.run():
            yield chunk
    except Exception as exc:  # noqa: BLE001  # the database went away mid-stream: end it
        ctx.log.warning("noti.stream_failed", error=type(exc).__name__)
    finally:
        metrics.streams_active.dec()
        metrics.streams_closed.inc()
        await hub.leave(stream.subscriber)
