"""The drain a SIGTERM starts (core.shutdown), in-process: what counts as in flight, what
closing the hub does to sockets and streams, and that the drain waits (within budget).
Real processes sent SIGTERM are in test_graceful_shutdown.py."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from wealist.core.realtime.broker import MemoryBroker
from wealist.core.realtime.hub import OVERFLOW_CLOSE_CODE, SHUTDOWN_CLOSE_CODE, Hub, Subscriber
from wealist.core.realtime.sse import stream
from wealist.core.settings import CoreSettings, SettingsError, load_settings
from wealist.core.shutdown import Shutdown


class Gate:
    """An ASGI app whose requests stay in flight until released."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.finished = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.entered.set()
        await self.release.wait()
        self.finished += 1


async def test_the_drain_closes_sockets_and_waits_for_what_is_in_flight() -> None:
    shutdown, gate = Shutdown(), Gate()
    app = shutdown.track(gate)
    hub = Hub(MemoryBroker())
    socket = hub.subscriber()
    await hub.join(socket, "room")
    request = asyncio.create_task(app({"type": "http"}, None, None))
    await gate.entered.wait()
    assert shutdown.inflight == 1

    drain = asyncio.create_task(shutdown.drain([hub], budget_s=60))
    await asyncio.sleep(0.05)
    assert shutdown.draining
    assert socket.closed.is_set()
    assert socket.close_code == SHUTDOWN_CLOSE_CODE
    assert not drain.done()  # the request is still running

    gate.release.set()
    assert await drain is True
    await request
    assert gate.finished == 1
    assert shutdown.inflight == 0


async def test_a_drain_with_nothing_in_flight_ends_at_once() -> None:
    shutdown = Shutdown()
    assert await shutdown.drain([], budget_s=60) is True


async def test_the_drain_gives_up_after_its_budget() -> None:
    shutdown, gate = Shutdown(), Gate()
    app = shutdown.track(gate)
    request = asyncio.create_task(app({"type": "http"}, None, None))
    await gate.entered.wait()
    assert await shutdown.drain([], budget_s=0.05) is False
    assert shutdown.inflight == 1
    gate.release.set()
    await request
    assert shutdown.inflight == 0


async def test_a_failed_request_still_leaves_the_count() -> None:
    shutdown = Shutdown()

    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await shutdown.track(broken)({"type": "http"}, None, None)
    assert shutdown.inflight == 0


async def test_a_closing_hub_shuts_late_joiners_and_subscribes_nothing() -> None:
    broker = MemoryBroker()
    hub = Hub(broker)
    await hub.close()
    late = hub.subscriber()
    await hub.join(late, "room")
    assert late.closed.is_set()
    assert late.close_code == SHUTDOWN_CLOSE_CODE
    assert hub.sockets == 0
    await hub.publish("room", b"x")
    assert late.queue.empty()


def test_a_subscriber_shut_for_a_restart_still_queues_its_last_frames() -> None:
    restarting, overflowed = Subscriber(queue_size=2), Subscriber(queue_size=2)
    restarting.shut(SHUTDOWN_CLOSE_CODE)
    overflowed.shut(OVERFLOW_CLOSE_CODE)
    assert restarting.offer("ack") is True  # e.g. the ack of a message stored meanwhile
    assert restarting.queue.get_nowait() == "ack"
    assert overflowed.offer("late") is False
    assert overflowed.queue.empty()
    # Still bounded: a full queue refuses, it never grows.
    assert restarting.offer("a") and restarting.offer("b")
    assert restarting.offer("c") is False
    assert restarting.close_code == SHUTDOWN_CLOSE_CODE


async def test_an_sse_stream_sends_what_is_queued_then_ends_on_a_restart() -> None:
    sub = Subscriber(queue_size=8)
    chunks = stream(sub, ping_s=60)
    waiting = asyncio.ensure_future(anext(chunks))
    await asyncio.sleep(0.01)
    sub.offer("id: 1\ndata: one\n\n")
    assert await waiting == b"id: 1\ndata: one\n\n"
    sub.offer("id: 2\ndata: two\n\n")
    sub.offer("id: 3\ndata: three\n\n")
    sub.shut(SHUTDOWN_CLOSE_CODE)
    rest = [chunk async for chunk in chunks]
    assert rest == [b"id: 2\ndata: two\n\n", b"id: 3\ndata: three\n\n"]


async def test_an_sse_stream_that_overflowed_ends_without_its_backlog() -> None:
    sub = Subscriber(queue_size=2)
    chunks = stream(sub, ping_s=60)
    sub.offer("a")
    sub.offer("b")
    sub.offer("c")  # overflow: shut with 1013
    assert [chunk async for chunk in chunks] == []


def test_drain_settings_come_from_the_environment_and_are_checked() -> None:
    found = load_settings(
        CoreSettings,
        "chat",
        {"WEALIST_DRAIN_ON_SIGTERM": "true", "WEALIST_CHAT_SHUTDOWN_DRAIN_S": "45"},
    )
    assert found.drain_on_sigterm is True
    assert found.shutdown_drain_s == 45
    assert load_settings(CoreSettings, "chat", {}).drain_on_sigterm is False
    with pytest.raises(SettingsError, match="WEALIST_SHUTDOWN_DRAIN_S"):
        load_settings(CoreSettings, "chat", {"WEALIST_SHUTDOWN_DRAIN_S": "-1"})


class FailingBroker(MemoryBroker):
    """A broker whose unsubscribe fails (Redis gone while the process drains)."""

    async def unsubscribe(self, topic: str, deliver: Any) -> None:
        raise ConnectionError("redis is gone")


async def test_closing_the_hub_shuts_every_socket_even_when_unsubscribing_fails() -> None:
    hub = Hub(FailingBroker())
    subs = [hub.subscriber() for _ in range(3)]
    for n, sub in enumerate(subs):
        await hub.join(sub, f"room-{n}")
    with pytest.raises(ConnectionError):
        await hub.close()
    assert all(sub.close_code == SHUTDOWN_CLOSE_CODE for sub in subs)
