"""Fan-out between processes: Redis pub/sub with one subscription per topic per process.

``publish`` sends bytes to every process subscribed to a topic (this one included), so a
socket receives each event exactly once through the broker, never also "locally".

The pub/sub connection is a dedicated redis-py ``Connection`` owned by one reader task,
not a ``PubSub`` object: redis-py's ``PubSub`` reconnects and resubscribes by itself
inside a read or a ``SUBSCRIBE`` when its client has retries configured (the services'
client has), so its owner never learns that events may have been lost, and two tasks
reconnecting one ``PubSub`` at once corrupt it. Here every (re)connection is made by the
reader: it opens a fresh connection, subscribes every local topic, waits for Redis to
confirm, and then - on every connection after the first - tells its reconnect listeners,
which recover what a pub/sub outage may have dropped from the database. An idle
connection is pinged so a silently dead one is noticed too.

Publishes go through a :class:`~wealist.core.realtime.batching.RedisBatch`: the frames of
concurrent commits (and of one commit's several topics) leave in one pipeline, over at
most ``publish_in_flight`` pooled connections; one PUBLISH per frame and topic, whatever
the number of local sockets (the hub fans out).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError

from wealist.core.jobs import cancel_and_wait
from wealist.core.realtime.batching import RedisBatch

__all__ = ("Broker", "Delivery", "ReconnectListener", "RedisBroker")

Delivery = Callable[[str, bytes], None]
ReconnectListener = Callable[[], Awaitable[None] | None]

log = structlog.get_logger("wealist.broker")


class Broker(Protocol):
    async def publish(self, topic: str, data: bytes) -> None: ...
    async def publish_many(self, items: Sequence[tuple[str, bytes]]) -> None: ...
    async def subscribe(self, topic: str, deliver: Delivery) -> None: ...
    async def unsubscribe(self, topic: str, deliver: Delivery) -> None: ...
    def on_reconnect(self, listener: ReconnectListener) -> None: ...


class _Subscriptions:
    """topic -> local delivery callbacks; tells the caller when a topic gains/loses its first."""

    def __init__(self) -> None:
        self.by_topic: dict[str, list[Delivery]] = {}
        self.listeners: list[ReconnectListener] = []

    def add(self, topic: str, deliver: Delivery) -> bool:
        callbacks = self.by_topic.setdefault(topic, [])
        callbacks.append(deliver)
        return len(callbacks) == 1

    def remove(self, topic: str, deliver: Delivery) -> bool:
        callbacks = self.by_topic.get(topic)
        if not callbacks or deliver not in callbacks:
            return False
        callbacks.remove(deliver)
        if not callbacks:
            del self.by_topic[topic]
            return True
        return False

    def dispatch(self, topic: str, data: bytes) -> None:
        for deliver in tuple(self.by_topic.get(topic, ())):
            try:
                deliver(topic, data)
            except Exception:  # one bad subscriber must not stop the others
                log.exception("broker.delivery_failed", topic=topic)

    async def notify_reconnect(self) -> None:
        for listener in tuple(self.listeners):
            try:
                result = listener()
                if result is not None:
                    await result
            except Exception:  # one failing listener must not starve the others
                log.exception("broker.reconnect_listener_failed")


class RedisBroker:
    """One pub/sub connection per process, shared by every hub and topic."""

    def __init__(
        self,
        redis: Redis,
        *,
        retry_delay: float = 0.5,
        max_retry_delay: float = 5.0,
        confirm_timeout: float = 2.0,
        ping_s: float = 15.0,
        publish_in_flight: int = 2,
    ) -> None:
        self._redis = redis
        self.publishes = RedisBatch(redis, in_flight=publish_in_flight)
        self._subs = _Subscriptions()
        self._retry_delay = retry_delay
        self._max_retry_delay = max_retry_delay
        self._ping_s = ping_s
        self.confirm_timeout = confirm_timeout
        self._reader: asyncio.Task[None] | None = None
        self._started = False
        # The connection once it is open and owned by the reader; None while (re)connecting.
        self._conn: AbstractConnection | None = None
        # Orders SUBSCRIBE/UNSUBSCRIBE on the connection (the reader's included).
        self._lock = asyncio.Lock()
        self._wanted = asyncio.Event()  # a topic was added while no connection was needed
        # topic -> resolved when Redis confirms the SUBSCRIBE in flight for it
        self._pending: dict[str, asyncio.Future[None]] = {}
        # After a (re)connection: topics Redis still has to confirm before listeners run.
        self._resync: set[str] | None = None
        self._resync_deadline = 0.0
        # A subscribe() returned before Redis confirmed: the next connection must resync.
        self._unconfirmed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._failures = 0  # consecutive connections lost before they worked
        self.connections = 0  # pub/sub connections established, reconnections included
        self.resyncs = 0  # times the reconnect listeners were run

    @property
    def connected(self) -> bool:
        """Whether the pub/sub connection is open (a readiness signal)."""
        return self._conn is not None and self._conn.is_connected

    # --- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        self._reader = asyncio.create_task(self._read_forever(), name="broker-reader")

    async def close(self) -> None:
        self._started = False
        tasks = [*self._tasks, *([self._reader] if self._reader is not None else [])]
        await cancel_and_wait(tasks, wait_s=self.confirm_timeout)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.publishes.close(), self.confirm_timeout)
        self._reader = None
        for future in self._pending.values():
            if not future.done():
                future.set_result(None)
        self._pending.clear()

    # --- the Broker protocol ----------------------------------------------------------

    async def publish(self, topic: str, data: bytes) -> None:
        await self.publishes.call(lambda pipe: pipe.publish(topic, data))

    async def publish_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        """Every item in this order, in one pipeline; the first error is raised after
        every one was sent."""
        answers = await self.publishes.call_many([_publish(t, d) for t, d in items])
        for answer in answers:
            if isinstance(answer, Exception):
                raise answer

    async def subscribe(self, topic: str, deliver: Delivery) -> None:
        """Subscribe; returns once Redis confirmed, so later publishes are not missed.

        While Redis is unreachable it returns at once instead: the reader subscribes when
        the connection comes back, and the reconnect listeners run then.
        """
        if self._subs.add(topic, deliver) and self._started:
            if topic not in self._pending:
                self._pending[topic] = asyncio.get_running_loop().create_future()
            if not await self._command("SUBSCRIBE", topic):
                self._wanted.set()
        confirmed = self._pending.get(topic)
        if confirmed is None or confirmed.done() or not self._started:
            return
        if self._conn is not None or self.connections == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(confirmed), self.confirm_timeout)
        if not confirmed.done():
            self._unconfirmed = True

    async def unsubscribe(self, topic: str, deliver: Delivery) -> None:
        if not self._subs.remove(topic, deliver):
            return
        confirmed = self._pending.pop(topic, None)
        if confirmed is not None and not confirmed.done():
            confirmed.set_result(None)
        if self._resync is not None:
            self._resync.discard(topic)
        await self._command("UNSUBSCRIBE", topic)

    def on_reconnect(self, listener: ReconnectListener) -> None:
        self._subs.listeners.append(listener)

    # --- the connection ---------------------------------------------------------------

    async def _command(self, *args: str) -> bool:
        """Send a command on the open connection; False when there is none or it broke.

        Never reconnects: a broken connection is the reader's to replace (it subscribes
        every topic on the new one).
        """
        async with self._lock:
            conn = self._conn
            # Checked right before sending: redis-py would silently reconnect otherwise.
            if conn is None or not conn.is_connected:
                return False
            try:
                await conn.send_command(*args, check_health=False)
            except Exception as exc:  # noqa: BLE001  # the reader sees the broken socket and reconnects
                log.warning("broker.command_failed", command=args[0], error=type(exc).__name__)
                return False
            return True

    def _connect(self) -> AbstractConnection:
        pool = self._redis.connection_pool
        # RESP2: pub/sub replies are plain arrays; decoding is ours (payloads stay bytes).
        kwargs = {**pool.connection_kwargs, "protocol": 2}
        return pool.connection_class(**kwargs)

    async def _read_forever(self) -> None:
        while self._started:
            if self.connections == 0 and not self._subs.by_topic:
                self._wanted.clear()  # no connection until something is wanted
                if not self._subs.by_topic:
                    await self._wanted.wait()
                continue
            conn = self._connect()
            try:
                await conn.connect()  # type: ignore[no-untyped-call]
                self.connections += 1
                async with self._lock:
                    self._conn = conn
                    topics = list(self._subs.by_topic)
                    if topics:
                        await conn.send_command("SUBSCRIBE", *topics, check_health=False)
                if self.connections > 1 or self._unconfirmed:
                    self._begin_resync(topics)
                    log.info("broker.reconnected", topics=len(topics))
                await self._read(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001  # never let the reader die: reconnect
                self._failures += 1
                log.warning(
                    "broker.connection_lost", error=type(exc).__name__, attempt=self._failures
                )
            finally:
                if self._conn is conn:
                    self._conn = None
                with contextlib.suppress(Exception):
                    await conn.disconnect(nowait=True)
            if self._failures > 1:  # the first retry is immediate (a killed connection)
                backoff = self._retry_delay * 2 ** (self._failures - 2)
                await asyncio.sleep(min(backoff, self._max_retry_delay))

    async def _read(self, conn: AbstractConnection) -> None:
        loop = asyncio.get_running_loop()
        heard = loop.time()
        pinged = False
        while self._started:
            timeout = max(0.05, min(self._ping_s, self.confirm_timeout) / 2)
            response = await conn.read_response(
                disable_decoding=True, timeout=timeout, disconnect_on_error=False
            )
            now = loop.time()
            if response is None:  # idle
                if now - heard > self._ping_s * (2 if pinged else 1):
                    if pinged:
                        raise RedisConnectionError("no answer to PING")
                    pinged = await self._command("PING")
            else:
                heard, pinged = now, False
                self._failures = 0  # reset only once the connection proved it works
                self._handle(response)
            self._finish_resync()

    def _handle(self, response: Any) -> None:
        if not isinstance(response, list) or len(response) < 3:
            return  # a PONG
        kind = response[0]
        if kind == b"message":
            self._subs.dispatch(response[1].decode(), response[2])
        elif kind == b"subscribe":
            topic = response[1].decode()
            confirmed = self._pending.pop(topic, None)
            if confirmed is not None and not confirmed.done():
                confirmed.set_result(None)
            if self._resync is not None:
                self._resync.discard(topic)

    def _begin_resync(self, topics: list[str]) -> None:
        self._unconfirmed = False
        self._resync = set(topics)
        self._resync_deadline = asyncio.get_running_loop().time() + self.confirm_timeout

    def _finish_resync(self) -> None:
        resync = self._resync
        if resync is None:
            return
        if resync and asyncio.get_running_loop().time() < self._resync_deadline:
            return
        self._resync = None
        self.resyncs += 1
        # In a task: listeners may replay from the database while the reader goes on.
        task = asyncio.create_task(self._subs.notify_reconnect(), name="broker-resync")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _publish(topic: str, data: bytes) -> Callable[[Pipeline], object]:
    return lambda pipe: pipe.publish(topic, data)
