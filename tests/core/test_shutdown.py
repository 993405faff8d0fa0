"""The drain a SIGTERM starts (core.shutdown), in-process: what counts as in flight, what
closing the hub does to sockets and streams (over the real Redis broker, Redis up, stalled
or killed), and that the drain waits (within budget). Real processes sent SIGTERM are in
test_graceful_shutdown.py."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import pytest
from litestar.types import ASGIApp, HTTPScope, Receive, Send
from redis.asyncio import Redis

from tests.core.realtime.waiting import eventually
from tests.plugins.faultproxy import FaultProxy
from wealist.core.context import make_redis
from wealist.core.realtime.broker import RedisBroker
from wealist.core.realtime.hub import OVERFLOW_CLOSE_CODE, SHUTDOWN_CLOSE_CODE, Hub, Subscriber
from wealist.core.realtime.sse import stream
from wealist.core.settings import CoreSettings, SettingsError, load_settings
from wealist.core.shutdown import Shutdown
from wealist.devstack.servers import RedisServer


@asynccontextmanager
async def opened_broker(url: str) -> AsyncIterator[RedisBroker]:
    """A broker as a service makes it (its client too), started, closed after.

    A SUBSCRIBE waits up to 30 s for Redis to confirm it, longer than any outage here."""
    client = make_redis(url)
    broker = RedisBroker(client, retry_delay=0.05, max_retry_delay=0.2, confirm_timeout=30.0)
    await broker.start()
    try:
        yield broker
    finally:
        await broker.close()
        await client.aclose()


@pytest.fixture
async def broker(redis_url: str) -> AsyncIterator[RedisBroker]:
    async with opened_broker(redis_url) as found:
        yield found


def room() -> str:
    return f"room:{uuid.uuid4().hex[:10]}"


async def numsub(redis: Redis, name: str) -> int:
    [(_, count)] = await redis.pubsub_numsub(name)
    return int(count)


async def barrier(broker: RedisBroker) -> None:
    """Returns once Redis has handled every (un)subscription the broker sent before: a
    SUBSCRIBE sent after them on the same connection has been confirmed."""
    await broker.subscribe(room(), lambda _topic, _data: None)


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


async def request_to(app: ASGIApp) -> None:
    """One HTTP request through ``app`` (the apps here never receive or send)."""
    await app(cast("HTTPScope", {"type": "http"}), cast("Receive", None), cast("Send", None))


async def test_the_drain_closes_sockets_and_waits_for_what_is_in_flight(
    broker: RedisBroker,
) -> None:
    shutdown, gate = Shutdown(), Gate()
    app = shutdown.track(gate)
    hub = Hub(broker)
    socket = hub.subscriber()
    await hub.join(socket, room())
    request = asyncio.create_task(request_to(app))
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
    request = asyncio.create_task(request_to(app))
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
        await request_to(shutdown.track(broken))
    assert shutdown.inflight == 0


async def test_a_closing_hub_shuts_late_joiners_and_subscribes_nothing(
    broker: RedisBroker, redis: Redis
) -> None:
    hub = Hub(broker)
    name = room()
    await hub.close()
    late = hub.subscriber()
    await hub.join(late, name)
    assert late.closed.is_set()
    assert late.close_code == SHUTDOWN_CLOSE_CODE
    assert hub.sockets == 0
    await barrier(broker)
    assert await numsub(redis, name) == 0  # nothing was subscribed for it
    # Whatever is published on the room now reaches this process (a witness listens on
    # the same broker), and still not the late joiner.
    heard: list[bytes] = []
    await broker.subscribe(name, lambda _topic, data: heard.append(data))
    await hub.publish(name, b"x")
    await eventually(lambda: heard, equals=[b"x"])
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


@pytest.mark.parametrize("outage", ["stalled", "killed"])
async def test_closing_the_hub_shuts_every_socket_while_redis_is_gone(
    outage: str, tmp_path: Path, fault_proxy: Callable[[str], FaultProxy]
) -> None:
    """Redis stops answering (the link stalls) or dies (SIGKILL) while the process drains:
    every socket is still shut, the drain does not wait for Redis, and the unsubscriptions
    made meanwhile are not undone when Redis is back."""
    server = RedisServer(tmp_path / "redis", durable=False)
    server.start()
    proxy = fault_proxy(server.url)
    try:
        async with opened_broker(proxy.proxied(server.url)) as broker:
            hub = Hub(broker)
            rooms = [room() for _ in range(3)]
            subs = [hub.subscriber() for _ in rooms]
            for sub, name in zip(subs, rooms, strict=True):
                await hub.join(sub, name)
            direct = Redis.from_url(server.url)
            try:
                assert [await numsub(direct, name) for name in rooms] == [1, 1, 1]
            finally:
                await direct.aclose()

            if outage == "stalled":
                proxy.stall()
            else:
                assert server.proc is not None
                server.proc.kill()
                await asyncio.to_thread(server.proc.wait)
                await eventually(lambda: not broker.connected)
            # Bounded only so a hang fails the test: nothing in close() waits for Redis.
            await asyncio.wait_for(hub.close(), 30)
            assert [sub.close_code for sub in subs] == [SHUTDOWN_CLOSE_CODE] * 3
            assert all(sub.closed.is_set() for sub in subs)
            assert hub.sockets == 0

            if outage == "stalled":
                proxy.heal()
            else:
                await asyncio.to_thread(server.start)  # on the same port, empty
                await eventually(lambda: broker.connected)
            await barrier(broker)
            direct = Redis.from_url(server.url)
            try:
                assert [await numsub(direct, name) for name in rooms] == [0, 0, 0]
            finally:
                await direct.aclose()
    finally:
        proxy.close()
        await asyncio.to_thread(server.stop)
