"""Per-process map of topics to local subscribers, each with a bounded queue.

A publish reaches the hub once per process (through the broker) and is decoded once; the
same ``str`` is queued for every local subscriber. A subscriber whose queue is full is
marked overflowed and its transport closes it: one slow reader never slows the others.

While it has local subscribers of a topic in a multicast scope, the hub also listens to
that scope's multicast channel (:mod:`wealist.core.realtime.multicast`) and hands each
frame published there to the local subscribers of the topics it names.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterable

import structlog
from typing_extensions import override

from wealist.core.realtime import multicast
from wealist.core.realtime.broker import Broker

__all__ = ("OVERFLOW_CLOSE_CODE", "SHUTDOWN_CLOSE_CODE", "Hub", "Subscriber")

log = structlog.get_logger("wealist.hub")
_ids = itertools.count(1)

OVERFLOW_CLOSE_CODE = 1013  # "try again later": the client reconnects and resumes
SHUTDOWN_CLOSE_CODE = 1012  # "service restart"


class Subscriber:
    """One socket or stream: a bounded outbound queue and the topics it listens to."""

    def __init__(
        self, queue_size: int, on_gap: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self.id = next(_ids)
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=queue_size)
        self.closed = asyncio.Event()
        self.close_code = 1000
        self.topics: set[str] = set()
        self.on_gap = on_gap
        self.dropped = 0

    def offer(self, frame: str) -> bool:
        """Queue ``frame`` without waiting; a full queue shuts the subscriber (never blocks).

        A subscriber shut for a restart still queues: its transport sends what is queued
        (e.g. the ack of a message being stored right now) before it closes.
        """
        if self.closed.is_set() and self.close_code != SHUTDOWN_CLOSE_CODE:
            return False
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.dropped += 1
            self.shut(OVERFLOW_CLOSE_CODE)
            return False
        return True

    def shut(self, code: int) -> None:
        """Ask the transport to close this subscriber's socket with ``code``."""
        if not self.closed.is_set():
            self.close_code = code
            self.closed.set()


class _MulticastSink(Subscriber):
    """The hub's own subscriber of a multicast channel: each frame goes on to the local
    subscribers of the topics it names (decoded once, as any frame)."""

    def __init__(self, hub: Hub) -> None:
        super().__init__(queue_size=1)
        self.hub = hub

    @override
    def offer(self, frame: str) -> bool:
        topics, body = multicast.unpack(frame)
        for topic in topics:
            for subscriber in tuple(self.hub._topics.get(topic, ())):
                subscriber.offer(body)
        return True


class Hub:
    """Topic -> local subscribers, over one broker subscription per topic."""

    def __init__(self, broker: Broker, queue_size: int = 256) -> None:
        self.broker = broker
        self.queue_size = queue_size
        self._topics: dict[str, set[Subscriber]] = {}
        self._joining: dict[str, asyncio.Event] = {}  # topic -> set once the broker listens
        self.closing = False  # set by close(): later joins are shut at once
        self._sinks: dict[str, _MulticastSink] = {}  # multicast channel -> its sink
        self._scoped: dict[str, int] = {}  # multicast channel -> local topics it reaches
        broker.on_reconnect(self._broker_reconnected)

    def subscriber(self, on_gap: Callable[[], Awaitable[None]] | None = None) -> Subscriber:
        return Subscriber(self.queue_size, on_gap)

    @property
    def sockets(self) -> int:
        return len(
            {s for subs in self._topics.values() for s in subs if not isinstance(s, _MulticastSink)}
        )

    def local(self, topic: str) -> int:
        return len(self._topics.get(topic, ()))

    async def join(self, subscriber: Subscriber, topic: str) -> None:
        """Start delivering ``topic`` to ``subscriber``; returns once the broker listens.

        No hub-wide lock: joining one topic never waits on another topic's subscription.
        The broker records (un)subscriptions synchronously when called, so it sees them
        in the order the hub makes them. A closing hub shuts the subscriber instead: the
        process is draining, so the client should reconnect to another one.
        """
        if self.closing:
            subscriber.shut(SHUTDOWN_CLOSE_CODE)
            return
        subscriber.topics.add(topic)
        subs = self._topics.get(topic)
        if subs is not None:
            subs.add(subscriber)
            joining = self._joining.get(topic)
            if joining is not None:  # the first subscriber's broker subscription is in flight
                await joining.wait()
            return
        self._topics[topic] = {subscriber}
        joining = self._joining[topic] = asyncio.Event()
        channel = multicast.channel_of(topic)
        if channel is not None:  # counted now: a failed join's leave uncounts it
            self._scoped[channel] = self._scoped.get(channel, 0) + 1
        try:
            await self.broker.subscribe(topic, self._deliver)
            if channel is not None:
                sink = self._sinks.get(channel)
                if sink is None:
                    sink = self._sinks[channel] = _MulticastSink(self)
                await self.join(sink, channel)
        except BaseException:
            await self.leave(subscriber, topic)
            raise
        finally:
            joining.set()
            if self._joining.get(topic) is joining:
                del self._joining[topic]

    async def leave(self, subscriber: Subscriber, topic: str | None = None) -> None:
        """Stop delivering ``topic`` (every topic when None) to ``subscriber``."""
        for name in [topic] if topic else list(subscriber.topics):
            subscriber.topics.discard(name)
            subs = self._topics.get(name)
            if subs is None or subscriber not in subs:
                continue
            subs.discard(subscriber)
            if not subs:
                del self._topics[name]
                await self.broker.unsubscribe(name, self._deliver)
                await self._uncount(name)

    async def _uncount(self, topic: str) -> None:
        """``topic`` has no local subscriber left: its multicast channel, if it was the
        last local topic that channel reaches, is left too."""
        channel = multicast.channel_of(topic)
        if channel is None:
            return
        left = self._scoped[channel] = self._scoped.get(channel, 1) - 1
        if left <= 0:
            del self._scoped[channel]
            sink = self._sinks.pop(channel, None)
            if sink is not None:
                await self.leave(sink, channel)

    async def publish(self, topic: str, data: bytes) -> None:
        """Send ``data`` to every subscriber of ``topic`` in every process."""
        await self.broker.publish(topic, data)

    async def publish_many(self, items: Iterable[tuple[str, bytes]]) -> None:
        """Several publishes at once (the Redis broker sends them in one pipeline, in
        this order); the first error is raised after every one was tried. An item may be
        a multicast (:func:`wealist.core.realtime.multicast.pack`)."""
        await self.broker.publish_many(list(items))

    def _deliver(self, topic: str, data: bytes | str) -> None:
        subs = self._topics.get(topic)
        if not subs:
            return
        frame = data if isinstance(data, str) else data.decode()  # once, for every socket
        for subscriber in tuple(subs):
            subscriber.offer(frame)

    async def _broker_reconnected(self) -> None:
        # Pub/sub may have dropped events while Redis was away: let subscribers resync.
        everyone = {s for subs in self._topics.values() for s in subs}
        for subscriber in everyone:
            if subscriber.on_gap is not None:
                try:
                    await subscriber.on_gap()
                except Exception:
                    log.exception("hub.gap_handler_failed", subscriber=subscriber.id)

    async def close(self) -> None:
        """Shut every subscriber with the restart code (and any that joins later)."""
        self.closing = True
        everyone = {s for subs in self._topics.values() for s in subs}
        for subscriber in everyone:  # all of them first: an unsubscribe may be slow or fail
            subscriber.shut(SHUTDOWN_CLOSE_CODE)
        for subscriber in everyone:
            await self.leave(subscriber)
