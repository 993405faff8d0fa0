"""The hub over the in-process broker: queues, overflow, one broker subscription per topic."""

from __future__ import annotations

import asyncio

from typing_extensions import override

from wealist.core.realtime.broker import Delivery, MemoryBroker
from wealist.core.realtime.hub import OVERFLOW_CLOSE_CODE, SHUTDOWN_CLOSE_CODE, Hub


class CountingBroker(MemoryBroker):
    """Counts broker (un)subscriptions; ``gate`` holds subscribe() open until set."""

    def __init__(self) -> None:
        super().__init__()
        self.subscribes: list[str] = []
        self.unsubscribes: list[str] = []
        self.gate: dict[str, asyncio.Event] = {}

    @override
    async def subscribe(self, topic: str, deliver: Delivery) -> None:
        await super().subscribe(topic, deliver)
        self.subscribes.append(topic)
        if topic in self.gate:
            await self.gate[topic].wait()

    @override
    async def unsubscribe(self, topic: str, deliver: Delivery) -> None:
        await super().unsubscribe(topic, deliver)
        self.unsubscribes.append(topic)


async def test_one_broker_subscription_per_topic() -> None:
    broker = CountingBroker()
    hub = Hub(broker, queue_size=4)
    subs = [hub.subscriber() for _ in range(3)]
    for sub in subs:
        await hub.join(sub, "t")
    assert broker.subscribes == ["t"]
    assert hub.local("t") == 3
    for sub in subs[:2]:
        await hub.leave(sub)
    assert broker.unsubscribes == []
    await hub.leave(subs[2])
    assert broker.unsubscribes == ["t"]
    assert hub.sockets == 0


async def test_every_subscriber_gets_the_same_decoded_frame() -> None:
    broker = MemoryBroker()
    hub = Hub(broker, queue_size=4)
    subs = [hub.subscriber() for _ in range(3)]
    for sub in subs:
        await hub.join(sub, "t")
    await hub.publish("t", b'{"n":1}')
    frames = [sub.queue.get_nowait() for sub in subs]
    assert frames[0] == '{"n":1}'
    assert all(frame is frames[0] for frame in frames)  # decoded once, shared


async def test_a_full_queue_shuts_only_that_subscriber() -> None:
    broker = MemoryBroker()
    hub = Hub(broker, queue_size=2)
    slow, fast = hub.subscriber(), hub.subscriber()
    await hub.join(slow, "t")
    await hub.join(fast, "t")
    for n in range(5):
        await hub.publish("t", str(n).encode())
        fast.queue.get_nowait()  # the fast one keeps up
    assert slow.closed.is_set()
    assert slow.close_code == OVERFLOW_CLOSE_CODE
    assert slow.dropped == 1
    assert not fast.closed.is_set()
    assert slow.offer("late") is False


async def test_joining_one_topic_does_not_wait_for_another() -> None:
    broker = CountingBroker()
    broker.gate["slow"] = asyncio.Event()
    hub = Hub(broker)
    a, b, c = hub.subscriber(), hub.subscriber(), hub.subscriber()
    slow_join = asyncio.ensure_future(hub.join(a, "slow"))
    await asyncio.sleep(0)
    await asyncio.wait_for(hub.join(b, "fast"), 1)  # not stuck behind "slow"
    # A second subscriber of "slow" waits until the broker listens on it.
    second = asyncio.ensure_future(hub.join(c, "slow"))
    await asyncio.sleep(0.01)
    assert not second.done()
    broker.gate["slow"].set()
    await asyncio.wait_for(asyncio.gather(slow_join, second), 1)
    assert broker.subscribes.count("slow") == 1


async def test_leave_during_join_unsubscribes_and_a_rejoin_subscribes_again() -> None:
    broker = CountingBroker()
    broker.gate["t"] = asyncio.Event()
    hub = Hub(broker)
    a = hub.subscriber()
    joining = asyncio.ensure_future(hub.join(a, "t"))
    await asyncio.sleep(0)
    await hub.leave(a)
    broker.gate["t"].set()
    await joining
    assert broker.unsubscribes == ["t"]
    b = hub.subscriber()
    await hub.join(b, "t")
    assert broker.subscribes == ["t", "t"]
    await hub.publish("t", b"x")
    assert b.queue.get_nowait() == "x"


async def test_reconnect_calls_gap_handlers_and_close_shuts_everyone() -> None:
    broker = MemoryBroker()
    hub = Hub(broker)
    gaps: list[int] = []

    async def gap() -> None:
        gaps.append(1)

    async def broken() -> None:
        raise RuntimeError("boom")

    subs = [hub.subscriber(gap), hub.subscriber(broken), hub.subscriber(gap)]
    for sub in subs:
        await hub.join(sub, "t")
    await broker.reconnected()
    assert gaps == [1, 1]
    await hub.close()
    assert all(sub.close_code == SHUTDOWN_CLOSE_CODE for sub in subs)
    assert hub.sockets == 0
