"""The hub over the real Redis broker: queues, overflow, one broker subscription per topic,
and what a stalled or cut Redis link does to joins and to gap handlers.

The broker talks to Redis through a fault proxy, so a test can stall the link (Redis
stops answering: a SUBSCRIBE waits for its confirmation) or cut it (a real reconnection).
What Redis itself sees is read past the proxy.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from tests.core.realtime.waiting import eventually
from tests.plugins.faultproxy import FaultProxy
from wealist.contracts import topics
from wealist.core.context import make_redis
from wealist.core.realtime import multicast
from wealist.core.realtime.broker import RedisBroker
from wealist.core.realtime.hub import OVERFLOW_CLOSE_CODE, SHUTDOWN_CLOSE_CODE, Hub, Subscriber

# A SUBSCRIBE in flight waits this long for Redis to confirm it: far longer than any test
# here holds the link stalled, so "still joining" means "waiting for Redis", never "gave up".
CONFIRM_S = 30.0


@dataclass
class Link:
    broker: RedisBroker  # a service's broker, its Redis link through ``proxy``
    proxy: FaultProxy
    redis: Redis  # straight to Redis: what Redis itself sees


@pytest.fixture
async def link(
    fault_proxy: Callable[[str], FaultProxy], redis_url: str, redis: Redis
) -> AsyncIterator[Link]:
    proxy = fault_proxy(redis_url)
    client = make_redis(proxy.proxied(redis_url))  # the client a service process makes
    broker = RedisBroker(client, retry_delay=0.05, confirm_timeout=CONFIRM_S, ping_s=60.0)
    await broker.start()
    try:
        yield Link(broker, proxy, redis)
    finally:
        proxy.heal()
        await broker.close()
        await client.aclose()


def topic() -> str:
    return f"hub:{uuid.uuid4().hex[:10]}"


async def numsub(redis: Redis, name: str) -> int:
    [(_, count)] = await redis.pubsub_numsub(name)
    return int(count)


async def received(sub: Subscriber) -> str:
    """The next frame queued for ``sub`` (a bound only for a test that fails)."""
    return await asyncio.wait_for(sub.queue.get(), 10)


async def barrier(broker: RedisBroker) -> None:
    """Returns once Redis has handled every (un)subscription the broker sent before: a
    SUBSCRIBE sent after them on the same connection has been confirmed."""
    await broker.subscribe(topic(), lambda _topic, _data: None)


async def test_one_broker_subscription_per_topic(link: Link) -> None:
    hub = Hub(link.broker, queue_size=4)
    name = topic()
    subs = [hub.subscriber() for _ in range(3)]
    for sub in subs:
        await hub.join(sub, name)
    assert await numsub(link.redis, name) == 1
    assert hub.local(name) == 3

    await hub.publish(name, b"one")
    for sub in subs:
        assert await received(sub) == "one"
        # A second broker subscription would have queued a second copy in the same dispatch.
        assert sub.queue.empty()

    for sub in subs[:2]:
        await hub.leave(sub)
    assert await numsub(link.redis, name) == 1  # one socket still listens
    await hub.publish(name, b"two")
    assert await received(subs[2]) == "two"
    assert subs[0].queue.empty()
    assert subs[1].queue.empty()

    await hub.leave(subs[2])
    await barrier(link.broker)
    assert await numsub(link.redis, name) == 0
    assert hub.sockets == 0


async def test_every_subscriber_gets_the_same_decoded_frame(link: Link) -> None:
    hub = Hub(link.broker, queue_size=4)
    name = topic()
    subs = [hub.subscriber() for _ in range(3)]
    for sub in subs:
        await hub.join(sub, name)
    await hub.publish(name, b'{"n":1}')
    frames = [await received(sub) for sub in subs]
    assert frames[0] == '{"n":1}'
    assert all(frame is frames[0] for frame in frames)  # decoded once, shared


async def test_a_full_queue_shuts_only_that_subscriber(link: Link) -> None:
    hub = Hub(link.broker, queue_size=2)
    name = topic()
    slow, fast = hub.subscriber(), hub.subscriber()
    await hub.join(slow, name)
    await hub.join(fast, name)
    for n in range(5):
        await hub.publish(name, str(n).encode())
        # The fast one keeps up; each frame reached both queues in the same delivery.
        assert await received(fast) == str(n)
    assert slow.closed.is_set()
    assert slow.close_code == OVERFLOW_CLOSE_CODE
    assert slow.dropped == 1
    assert [slow.queue.get_nowait() for _ in range(slow.queue.qsize())] == ["0", "1"]
    assert not fast.closed.is_set()
    assert slow.offer("late") is False


async def test_joining_one_topic_does_not_wait_for_another(link: Link) -> None:
    # Two hubs of one process share its broker (as a service's board and presence do).
    # The other hub already listens on `fast`, so joining it needs no word from Redis.
    other, hub = Hub(link.broker), Hub(link.broker)
    slow, fast = topic(), topic()
    await other.join(other.subscriber(), fast)
    link.proxy.stall()  # Redis stops answering: `slow`'s SUBSCRIBE waits for its confirmation

    a, b, c = hub.subscriber(), hub.subscriber(), hub.subscriber()
    slow_join = asyncio.ensure_future(hub.join(a, slow))
    fast_join = asyncio.ensure_future(hub.join(b, fast))
    done, _ = await asyncio.wait({slow_join, fast_join}, return_when=asyncio.FIRST_COMPLETED)
    assert done == {fast_join}  # not stuck behind `slow`
    assert not slow_join.done()

    # A second subscriber of `slow` waits until the broker listens on it.
    second = asyncio.ensure_future(hub.join(c, slow))
    await asyncio.sleep(0)  # its first step ran: it is waiting, not done
    assert slow in c.topics
    assert not second.done()

    link.proxy.heal()
    await asyncio.wait_for(asyncio.gather(slow_join, second), 10)
    assert await numsub(link.redis, slow) == 1
    await hub.publish(slow, b"s")
    assert await received(a) == "s"
    assert await received(c) == "s"
    assert a.queue.empty()  # one broker subscription for the two joins
    assert c.queue.empty()


async def test_leave_during_join_unsubscribes_and_a_rejoin_subscribes_again(link: Link) -> None:
    hub = Hub(link.broker)
    name = topic()
    a = hub.subscriber()
    link.proxy.stall()  # the join's SUBSCRIBE stays unconfirmed
    joining = asyncio.ensure_future(hub.join(a, name))
    await asyncio.sleep(0)
    assert name in a.topics
    assert not joining.done()  # waiting for Redis
    await hub.leave(a)
    link.proxy.heal()
    await asyncio.wait_for(joining, 10)

    await barrier(link.broker)
    assert await numsub(link.redis, name) == 0  # the leave unsubscribed, after the SUBSCRIBE
    b = hub.subscriber()
    await hub.join(b, name)
    assert await numsub(link.redis, name) == 1  # the rejoin subscribed again
    await hub.publish(name, b"x")
    assert await received(b) == "x"
    assert a.queue.empty()


async def test_reconnect_calls_gap_handlers_and_close_shuts_everyone(link: Link) -> None:
    hub = Hub(link.broker)
    name = topic()
    gaps: list[int] = []

    def handler(n: int) -> Callable[[], Awaitable[None]]:
        async def gap() -> None:
            if n % 2:
                raise RuntimeError("boom")
            gaps.append(n)

        return gap

    # Every other handler fails; the hub calls them in no set order, so with this many a
    # failure that stopped the rest would leave some working handler out.
    subs = [hub.subscriber(handler(n)) for n in range(16)]
    for sub in subs:
        await hub.join(sub, name)
    assert gaps == []
    before = link.broker.connections

    assert link.proxy.reset() >= 1  # the link to Redis is cut: the broker reconnects
    await eventually(lambda: sorted(gaps), equals=list(range(0, 16, 2)))
    assert link.broker.connections > before
    await hub.publish(name, b"after")  # still subscribed on the new connection
    for sub in subs:
        assert await received(sub) == "after"

    await hub.close()
    assert all(sub.close_code == SHUTDOWN_CLOSE_CODE for sub in subs)
    assert hub.sockets == 0
    assert sorted(gaps) == list(range(0, 16, 2))  # once each


# --- multicast ------------------------------------------------------------------------------

DOTS = topics.multicast("chat-user")


def user_topic() -> str:
    return topics.chat_user(str(uuid.uuid4()))


async def test_one_multicast_reaches_the_local_subscribers_of_each_topic_it_names(
    link: Link,
) -> None:
    here, there = Hub(link.broker, queue_size=4), Hub(link.broker, queue_size=4)
    a, b, c, unnamed = (user_topic() for _ in range(4))
    a1, a2, b1, u1, plain = (here.subscriber() for _ in range(5))
    c1 = there.subscriber()  # another process's socket
    for sub, name in ((a1, a), (a2, a), (b1, b), (u1, unnamed), (plain, topic())):
        await here.join(sub, name)
    await there.join(c1, c)
    assert here.local(DOTS) == 1  # one channel subscription for the hub's three user topics
    assert here.sockets == 5  # the hub's own listener is not a socket

    await here.publish_many([multicast.pack([a, b, c], b'{"dot":1}'), (b, b'{"after":1}')])

    for sub in (a1, a2, b1, c1):
        assert await received(sub) == '{"dot":1}'
    assert await received(b1) == '{"after":1}'  # one pipeline, in order
    await barrier(link.broker)
    for sub in (a1, a2, c1, u1, plain):
        assert sub.queue.empty()  # once each, and nothing for topics it does not name


async def test_the_multicast_channel_is_left_with_the_last_topic_it_reaches(link: Link) -> None:
    hub = Hub(link.broker, queue_size=4)
    a, b = user_topic(), user_topic()
    first, second = hub.subscriber(), hub.subscriber()
    await hub.join(first, a)
    await hub.join(second, b)
    await hub.leave(first)
    assert hub.local(DOTS) == 1  # b still listens
    await hub.leave(second)
    assert hub.local(DOTS) == 0
    assert hub.sockets == 0

    again = hub.subscriber()
    await hub.join(again, a)  # joined afresh
    assert hub.local(DOTS) == 1
    await hub.publish_many([multicast.pack([a], b"x")])
    assert await received(again) == "x"
    await hub.leave(again)
    assert hub.local(DOTS) == 0


def test_a_multicast_names_topics_of_one_multicast_scope() -> None:
    channel, payload = multicast.pack([topics.chat_user("u1"), topics.chat_user("u2")], b"{}")
    assert channel == DOTS
    assert multicast.unpack(payload.decode()) == (["chat-user:u1", "chat-user:u2"], "{}")
    for wrong in (
        [],
        [topics.chat("c1")],  # a scope with no multicast channel
        [topics.chat_user("u1"), topics.user("u1")],  # two scopes
        [topics.chat_user("u1\nchat-user:u2")],
    ):
        with pytest.raises(ValueError):
            multicast.pack(wrong, b"{}")
