"""SSE helpers: event framing, the resume point, and the stream loop."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from litestar.datastructures import Headers

from tests.plugins.harness import TokenIssuer
from wealist.core.realtime.hub import OVERFLOW_CLOSE_CODE, SHUTDOWN_CLOSE_CODE, Subscriber
from wealist.core.realtime.sse import PING, format_event, last_event_id, reset_event, stream

# --- format_event -----------------------------------------------------------------------


def test_format_event_with_id_event_and_multi_line_data() -> None:
    assert format_event("one\ntwo\n\nfour", event="notification", id="42") == (
        b"id: 42\nevent: notification\ndata: one\ndata: two\ndata: \ndata: four\n\n"
    )


def test_format_event_plain_data_and_retry() -> None:
    assert format_event('{"a":1}') == b'data: {"a":1}\n\n'
    assert format_event("x", retry_ms=1500) == b"retry: 1500\ndata: x\n\n"
    assert format_event("") == b"data: \n\n"


@pytest.mark.parametrize("data", ["a\r\nb", "a\rb", "a\nb"])
def test_every_sse_line_break_splits_data(data: str) -> None:
    # A bare CR ends a line for an EventSource too: left inside a data line, it would
    # turn the rest into a field of its own.
    assert format_event(data) == b"data: a\ndata: b\n\n"


@pytest.mark.parametrize("field", ["id", "event"])
@pytest.mark.parametrize("value", ["1\ndata: forged", "1\r2", "a\0b"])
def test_id_and_event_must_be_one_line(field: str, value: str) -> None:
    with pytest.raises(ValueError, match=field):
        if field == "id":
            format_event("x", id=value)
        else:
            format_event("x", event=value)


def test_reset_event() -> None:
    assert reset_event() == b'event: reset\ndata: {"reason":"gap"}\n\n'
    assert reset_event("expired") == b'event: reset\ndata: {"reason":"expired"}\n\n'


# --- last_event_id ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "query", "expected"),
    [
        ({"last-event-id": "7"}, {}, "7"),
        ({"Last-Event-ID": "7"}, {}, "7"),  # a plain dict keeps the client's spelling
        (Headers({"Last-Event-ID": "7"}), {}, "7"),
        ({}, {"lastEventId": "8"}, "8"),
        ({}, {"last_event_id": "9"}, "9"),
        ({"last-event-id": "7"}, {"lastEventId": "8"}, "7"),  # the header wins
        ({"last-event-id": "  "}, {"lastEventId": "8"}, "8"),
        ({"last-event-id": " 7 "}, {}, "7"),
        ({}, {}, None),
        ({"last-event-id": ""}, {"lastEventId": ""}, None),
    ],
)
def test_last_event_id(headers: Any, query: dict[str, str], expected: str | None) -> None:
    assert last_event_id(headers, query) == expected


# --- stream -----------------------------------------------------------------------------


async def next_chunk(chunks: AsyncIterator[bytes], timeout: float = 5.0) -> bytes:
    return await asyncio.wait_for(anext(chunks), timeout)


async def test_stream_sends_first_then_queued_frames_then_pings_and_ends_when_shut() -> None:
    sub = Subscriber(queue_size=8)
    sub.offer(format_event("queued-1", id="1").decode())
    sub.offer(format_event("queued-2", id="2").decode())
    chunks = stream(sub, [b"first-a", b"first-b"], ping_s=0.05)

    assert await next_chunk(chunks) == b"first-a"
    assert await next_chunk(chunks) == b"first-b"
    assert await next_chunk(chunks) == b"id: 1\ndata: queued-1\n\n"
    assert await next_chunk(chunks) == b"id: 2\ndata: queued-2\n\n"
    assert await next_chunk(chunks) == PING  # idle
    assert await next_chunk(chunks) == PING

    pending = asyncio.ensure_future(next_chunk(chunks))
    await asyncio.sleep(0.01)
    sub.offer(format_event("live", id="3").decode())  # while the stream waits
    assert await pending == b"id: 3\ndata: live\n\n"

    sub.shut(SHUTDOWN_CLOSE_CODE)
    with pytest.raises(StopAsyncIteration):
        await next_chunk(chunks)


async def test_stream_ends_when_shut_while_waiting() -> None:
    sub = Subscriber(queue_size=8)
    chunks = stream(sub, ping_s=60)
    pending = asyncio.ensure_future(next_chunk(chunks))
    await asyncio.sleep(0.01)
    sub.shut(OVERFLOW_CLOSE_CODE)
    with pytest.raises(StopAsyncIteration):
        await pending


async def test_a_consumer_that_goes_away_leaves_no_reader_behind() -> None:
    """A client disconnect cancels the stream: no orphan ``queue.get`` may eat frames."""
    sub = Subscriber(queue_size=8)
    chunks = stream(sub, ping_s=60)
    pending = asyncio.ensure_future(next_chunk(chunks))
    await asyncio.sleep(0.01)
    pending.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await pending
    await asyncio.sleep(0.01)
    sub.offer("frame")
    await asyncio.sleep(0.01)
    assert sub.queue.qsize() == 1


# --- in a real process ------------------------------------------------------------------


@pytest.mark.slow
async def test_an_event_reaches_an_sse_stream_in_a_real_process(
    service_process: Callable[..., Any], issuer: TokenIssuer
) -> None:
    proc = await service_process("board", routes="tests.core.realtime.probe_routes:ROUTES")
    user = str(uuid.uuid4())
    async with (
        httpx.AsyncClient(base_url=proc.url, timeout=10) as http,
        http.stream("GET", f"/probe/stream?token={issuer.token(user)}") as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        lines = response.aiter_lines()

        async def event() -> list[str]:
            found: list[str] = []
            async for line in lines:
                if line == "" and found:
                    return found
                if line:
                    found.append(line)
            raise AssertionError("stream ended")

        assert await asyncio.wait_for(event(), 10) == [
            "event: connected",
            'data: {"status":"connected"}',
        ]
        posted = await http.post(f"/probe/notify/{user}", json={"hello": "world"})
        assert posted.status_code in (200, 201, 204)
        assert await asyncio.wait_for(event(), 10) == [
            "id: 1",
            "event: notification",
            'data: {"hello":"world"}',
        ]
