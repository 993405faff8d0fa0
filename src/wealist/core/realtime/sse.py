"""Server-sent events: framing, ``Last-Event-ID``, keep-alive pings and the ``reset`` event."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Iterable, Mapping

from wealist.core.realtime.hub import SHUTDOWN_CLOSE_CODE, Subscriber

__all__ = ("PING", "SSE_HEADERS", "format_event", "last_event_id", "reset_event", "stream")

PING = b":ping\n\n"
SSE_HEADERS = {
    "Cache-Control": "no-cache",
    "Connection": "keep-alive",
    "X-Accel-Buffering": "no",  # tell nginx not to buffer the stream
}

# The SSE grammar ends a line at CRLF, LF or CR; data must be split on all three.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _field(name: str, value: str) -> str:
    if _LINE_BREAK.search(value) or "\0" in value:
        msg = f"SSE {name} must be a single line without NUL: {value!r}"
        raise ValueError(msg)
    return f"{name}: {value}"


def format_event(
    data: str,
    *,
    event: str | None = None,
    id: str | None = None,  # noqa: A002  # the SSE field's name
    retry_ms: int | None = None,
) -> bytes:
    """One SSE event. Multi-line data is split into several ``data:`` lines.

    ``id`` and ``event`` must be single lines (a line break would start another field,
    letting data forge events), so they raise ``ValueError`` otherwise.
    """
    lines: list[str] = []
    if id is not None:
        lines.append(_field("id", id))
    if event is not None:
        lines.append(_field("event", event))
    if retry_ms is not None:
        lines.append(f"retry: {int(retry_ms)}")
    lines.extend(f"data: {line}" for line in _LINE_BREAK.split(data))
    return ("\n".join(lines) + "\n\n").encode()


def reset_event(reason: str = "gap") -> bytes:
    """Tells the client its resume point is gone: refetch state, then follow live events."""
    return format_event(f'{{"reason":"{reason}"}}', event="reset")


def _get(mapping: Mapping[str, str], name: str) -> str | None:
    value = mapping.get(name)
    if value is not None:
        return value
    # A plain dict is case-sensitive; Litestar's headers are lower-cased already.
    lowered = name.lower()
    for key, found in mapping.items():
        if key.lower() == lowered:
            return found
    return None


def last_event_id(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The resume point: the ``Last-Event-ID`` header, else a ``lastEventId`` query value.

    The header wins: a browser's ``EventSource`` sends it on every reconnection, while a
    query value is whatever the page put in the URL when it first connected.
    """
    for given in (
        _get(headers, "last-event-id"),
        query.get("lastEventId"),
        query.get("last_event_id"),
    ):
        value = (given or "").strip()
        if value:
            return value
    return None


async def stream(
    subscriber: Subscriber, first: Iterable[bytes] = (), *, ping_s: float = 30.0
) -> AsyncIterator[bytes]:
    """Yield ``first`` (e.g. ``connected`` and replayed events), then live frames with pings.

    Live frames are queued by the hub as already formatted SSE text. A ``:ping`` comment
    goes out after ``ping_s`` without a frame. The stream ends when the subscriber is shut
    (overflow or shutdown; a shutdown first sends what is queued): the client reconnects
    with its last id.
    """
    for chunk in first:
        yield chunk
    queue = subscriber.queue
    closed = asyncio.ensure_future(subscriber.closed.wait())
    getter: asyncio.Future[str] | None = None
    try:
        while not subscriber.closed.is_set():
            if not queue.empty():  # fast path: no task per frame while frames are waiting
                yield queue.get_nowait().encode()
                continue
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait(
                {getter, closed}, timeout=ping_s, return_when=asyncio.FIRST_COMPLETED
            )
            if getter not in done:
                getter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await getter
            got, getter = getter, None
            if not got.cancelled():  # a frame, even one that raced the cancellation
                yield got.result().encode()
            elif not done:
                yield PING
        while subscriber.close_code == SHUTDOWN_CLOSE_CODE and not queue.empty():
            yield queue.get_nowait().encode()
    finally:
        closed.cancel()
        if getter is not None:  # the consumer went away while we waited
            getter.cancel()
