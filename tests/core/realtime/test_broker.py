"""The broker contract: Redis pub/sub on a real server, its connection really cut or its
server really stopped."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.core.realtime.waiting import eventually
from wealist.core.context import make_redis
from wealist.core.realtime.broker import RedisBroker
from wealist.devstack.servers import RedisServer


@dataclass
class Inbox:
    """A delivery callback that records what it receives."""

    got: list[tuple[str, bytes]] = field(default_factory=list)

    def __call__(self, topic: str, data: bytes) -> None:
        self.got.append((topic, data))

    def payloads(self, topic: str | None = None) -> list[bytes]:
        return [data for t, data in self.got if topic is None or t == topic]


def topic() -> str:
    return f"test:{uuid.uuid4().hex[:10]}"


# "redis" uses a client as a test would make one; "redis-service" the client a service
# process makes (short timeouts, redis-py retries, health checks): redis-py reconnects by
# itself inside a read there, and the broker must still notice.
async def started(kind: str, redis_url: str) -> AsyncIterator[RedisBroker]:
    client = Redis.from_url(redis_url) if kind == "redis" else make_redis(redis_url)
    found = RedisBroker(client, retry_delay=0.05)
    await found.start()
    try:
        yield found
    finally:
        await found.close()
        await client.aclose()


@pytest.fixture(params=["redis", "redis-service"])
async def broker(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[RedisBroker]:
    async for found in started(request.param, redis_url):
        yield found


async def settle(broker: RedisBroker, name: str, inbox: Inbox) -> None:
    """Publish a marker and wait for it: everything published before has been delivered."""
    marker = f"marker-{uuid.uuid4().hex}".encode()
    await broker.publish(name, marker)
    await eventually(lambda: marker in inbox.payloads(name))


async def test_publish_reaches_every_subscriber_of_the_topic_once(broker: RedisBroker) -> None:
    news, other = topic(), topic()
    first, second, elsewhere = Inbox(), Inbox(), Inbox()
    await broker.subscribe(news, first)
    await broker.subscribe(news, second)
    await broker.subscribe(other, elsewhere)

    await broker.publish(news, b"hello")
    await settle(broker, news, first)
    await settle(broker, news, second)
    await settle(broker, other, elsewhere)

    assert first.payloads(news).count(b"hello") == 1
    assert second.payloads(news).count(b"hello") == 1
    assert b"hello" not in elsewhere.payloads()
    assert {t for t, _ in first.got} == {news}


async def test_unsubscribe_stops_delivery(broker: RedisBroker, redis: Redis) -> None:
    name = topic()
    leaving, staying = Inbox(), Inbox()
    await broker.subscribe(name, leaving)
    await broker.subscribe(name, staying)
    await broker.unsubscribe(name, leaving)

    await broker.publish(name, b"after")
    await settle(broker, name, staying)
    assert staying.payloads(name).count(b"after") == 1
    assert leaving.payloads() == []

    await broker.unsubscribe(name, staying)
    await eventually(lambda: numsub(redis, name), equals=0)
    # A later subscriber of the topic sees what is published next; the one that left not.
    witness = Inbox()
    await broker.subscribe(name, witness)
    await broker.publish(name, b"gone")
    await settle(broker, name, witness)
    assert witness.payloads(name).count(b"gone") == 1
    assert b"gone" not in staying.payloads()


async def numsub(redis: Redis, name: str) -> int:
    [(_, count)] = await redis.pubsub_numsub(name)
    return int(count)


async def test_one_redis_subscription_per_topic_per_process(
    broker: RedisBroker, redis: Redis
) -> None:
    name = topic()
    one, two = Inbox(), Inbox()
    await broker.subscribe(name, one)
    # subscribe() returns once Redis confirmed: no waiting needed before counting.
    assert await numsub(redis, name) == 1
    await broker.subscribe(name, two)
    assert await numsub(redis, name) == 1
    await broker.unsubscribe(name, one)
    assert await numsub(redis, name) == 1
    await broker.unsubscribe(name, two)
    await eventually(lambda: numsub(redis, name), equals=0)


async def test_subscribe_returns_after_redis_confirmed(broker: RedisBroker) -> None:
    # No waiting between subscribe and publish: a publish right after must be delivered.
    for _ in range(20):
        name, inbox = topic(), Inbox()
        await broker.subscribe(name, inbox)
        await broker.publish(name, b"now")
        await eventually(lambda: inbox.payloads(name) == [b"now"])  # noqa: B023


async def test_reconnects_resubscribes_and_tells_listeners(
    broker: RedisBroker, redis: Redis
) -> None:
    names = [topic(), topic()]
    inboxes = [Inbox(), Inbox()]
    for name, inbox in zip(names, inboxes, strict=True):
        await broker.subscribe(name, inbox)
    calls: list[str] = []

    async def listener() -> None:
        calls.append("async")

    broker.on_reconnect(listener)
    broker.on_reconnect(lambda: calls.append("sync"))
    for name, inbox in zip(names, inboxes, strict=True):
        await settle(broker, name, inbox)
    before = broker.connections

    killed = await redis.client_kill_filter(_type="pubsub")
    assert killed >= 1

    await eventually(lambda: sorted(calls), equals=["async", "sync"])
    assert broker.connections > before
    for name in names:
        assert await numsub(redis, name) == 1
    for name, inbox in zip(names, inboxes, strict=True):
        await broker.publish(name, b"after-reconnect")
        await settle(broker, name, inbox)
        assert inbox.payloads(name).count(b"after-reconnect") == 1


async def test_repeated_outages_each_tell_listeners(broker: RedisBroker, redis: Redis) -> None:
    name, inbox = topic(), Inbox()
    await broker.subscribe(name, inbox)
    calls: list[int] = []
    broker.on_reconnect(lambda: calls.append(1))
    for outage in range(1, 4):
        await redis.client_kill_filter(_type="pubsub")
        await eventually(lambda: len(calls), equals=outage)
        await settle(broker, name, inbox)
    assert await numsub(redis, name) == 1


async def test_subscribe_while_disconnected_is_made_on_reconnect(
    broker: RedisBroker, redis: Redis
) -> None:
    first, first_inbox = topic(), Inbox()
    await broker.subscribe(first, first_inbox)
    calls: list[int] = []
    broker.on_reconnect(lambda: calls.append(1))
    await redis.client_kill_filter(_type="pubsub")
    # Right after the kill, before (or while) the broker notices and reconnects.
    later, later_inbox = topic(), Inbox()
    await broker.subscribe(later, later_inbox)
    await eventually(lambda: len(calls) >= 1)
    await settle(broker, later, later_inbox)
    await settle(broker, first, first_inbox)
    assert await numsub(redis, later) == 1


async def test_subscribe_before_start_is_made_on_start(redis_url: str, redis: Redis) -> None:
    client = Redis.from_url(redis_url)
    broker = RedisBroker(client)
    name, inbox = topic(), Inbox()
    try:
        await broker.subscribe(name, inbox)
        await broker.start()
        await eventually(lambda: numsub(redis, name), equals=1)
        await settle(broker, name, inbox)
    finally:
        await broker.close()
        await client.aclose()


async def test_a_failing_subscriber_does_not_stop_the_others(broker: RedisBroker) -> None:
    name, inbox = topic(), Inbox()

    def broken(topic: str, data: bytes) -> None:
        raise RuntimeError("boom")

    await broker.subscribe(name, broken)
    await broker.subscribe(name, inbox)
    await settle(broker, name, inbox)


async def test_a_failing_reconnect_listener_does_not_stop_the_others(
    broker: RedisBroker, redis: Redis
) -> None:
    name, inbox = topic(), Inbox()
    await broker.subscribe(name, inbox)
    calls: list[int] = []

    def broken() -> None:
        raise RuntimeError("boom")

    async def listener() -> None:
        calls.append(1)

    broker.on_reconnect(broken)  # runs first, and fails
    broker.on_reconnect(listener)
    for outage in (1, 2):  # and the broker goes on resyncing after it failed
        assert await redis.client_kill_filter(_type="pubsub") >= 1
        await eventually(lambda: len(calls), equals=outage)
        await settle(broker, name, inbox)
    assert broker.resyncs == 2


@pytest.mark.slow
async def test_survives_a_redis_restart(tmp_path: Path) -> None:
    """Redis down for a while (longer than redis-py's own retries), then back on its port."""
    server = RedisServer(tmp_path / "redis", durable=False)
    server.start()
    client = make_redis(server.url)
    broker = RedisBroker(client, retry_delay=0.05, max_retry_delay=0.2)
    await broker.start()
    calls: list[int] = []
    broker.on_reconnect(lambda: calls.append(1))
    try:
        before, before_inbox = topic(), Inbox()
        await broker.subscribe(before, before_inbox)
        await settle(broker, before, before_inbox)

        await asyncio.to_thread(server.stop)
        await eventually(lambda: not broker.connected)
        during, during_inbox = topic(), Inbox()
        await broker.subscribe(during, during_inbox)  # returns although Redis is away
        await asyncio.sleep(0.5)  # several failed reconnection attempts
        assert calls == []

        await asyncio.to_thread(server.start)
        await eventually(lambda: calls, equals=[1])
        assert broker.connected
        await settle(broker, before, before_inbox)
        await settle(broker, during, during_inbox)
    finally:
        await broker.close()
        await client.aclose()
        await asyncio.to_thread(server.stop)
