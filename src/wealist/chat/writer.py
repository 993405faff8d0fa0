"""Group commit: the writes of a process that arrive together go into one transaction.

Every socket and request of a process hands its write to a :class:`GroupWriter` and waits
for the answer. The writer has a few *lanes*, each with a connection of its own (outside
the service's pool, so writes never wait behind reads for a connection, and reads never
wait behind writes). Items are routed to a lane by a key (a chat: its writes stay in
order, and two lanes never contend for one chat's lock). A lane takes what queued while
its previous batch was written (an idle lane first waits ``linger_s`` for company), at
most ``batch_max`` items, and hands them to the batch function, which writes them in one
transaction and answers each item; the answers are given once the batch's
``announce`` (publishing what committed) went out. The next batch is written meanwhile;
announcements leave in commit order.

Backpressure: at most ``queue_max`` items are queued or being written per writer;
further callers wait for room (their latency grows, nothing is refused). A lost link or a
transient refusal (deadlock, serialization failure, too many connections) retries the
whole batch on a fresh connection for up to ``retry_s``: the batch function must make a
re-run safe (find what an attempt whose COMMIT answer was lost stored). Only once the
database stayed out of reach that long are the batch's callers told it is unavailable.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import psycopg
import structlog

from wealist.core.db import Conn, Database, Tx
from wealist.core.db.conn import lost_link
from wealist.core.errors import ServiceUnavailable

__all__ = ("GroupWriter", "Link", "Written", "retryable")

log = structlog.get_logger("wealist.chat.writer")

T = TypeVar("T")
R = TypeVar("R")
Raw = psycopg.AsyncConnection[Any]

# SQLSTATEs after which the same batch may simply run again: serialization failure,
# deadlock detected, too many connections, the server starting up or in recovery.
_TRANSIENT = {"40001", "40P01", "53300", "57P03"}


@dataclass
class Written(Generic[R]):
    """What a batch produced: one answer per item (a value or the exception to raise in
    its caller), and what to publish once it committed (before the answers are given)."""

    answers: list[R | BaseException]
    announce: Callable[[], Awaitable[None]] | None = None


class Link:
    """A lane's own connection, lent to the batch function as the store's Conn and Tx
    (round trips counted on the service's database, like the pool's)."""

    def __init__(self, raw: Raw, database: Database) -> None:
        self.raw = raw
        self._database = database

    @property
    def conn(self) -> Conn:
        """Autocommit statements (reads before the transaction)."""
        return Conn(self.raw, self._database)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """One transaction; an exception rolls it back. (``on_commit`` callbacks are not
        run: a batch announces through :class:`Written`.)"""
        async with self.raw.transaction():
            yield Tx(self.raw, self._database)


WriteBatch = Callable[[Link, list[T]], Awaitable[Written[R]]]


class _Item(Generic[T, R]):
    __slots__ = ("future", "value")

    def __init__(self, value: T, future: asyncio.Future[R]) -> None:
        self.value = value
        self.future = future


def retryable(exc: BaseException) -> bool:
    """Whether a batch that failed with ``exc`` runs again as a whole (nothing of it
    can have been kept but what a re-run finds)."""
    if not isinstance(exc, psycopg.Error):
        return False
    if isinstance(exc, psycopg.OperationalError) and lost_link(exc):
        return True
    return exc.sqlstate in _TRANSIENT


class _Lane(Generic[T, R]):
    def __init__(self, writer: GroupWriter[T, R], index: int) -> None:
        self.writer = writer
        self.index = index
        self.queue: collections.deque[_Item[T, R]] = collections.deque()
        self.wake = asyncio.Event()
        self.link: Link | None = None
        self.announcing: asyncio.Future[None] | None = None  # the latest batch's
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        writer = self.writer
        woke = True  # from idle: nothing was being written when the first item came
        while True:
            if not self.queue:
                if writer.closing:
                    return
                self.wake.clear()
                await self.wake.wait()
                woke = True
                continue
            # Busy, the items that came while the last batch was written are the batch;
            # idle, the first one waits a moment for the ones right behind it.
            if woke and writer.linger_s > 0 and len(self.queue) < writer.batch_max:
                await asyncio.sleep(writer.linger_s)
            woke = False
            batch: list[_Item[T, R]] = []
            while self.queue and len(batch) < writer.batch_max:
                item = self.queue.popleft()
                if not item.future.done():  # a caller that gave up is not written
                    batch.append(item)
            if batch:
                await self._write(batch)

    async def _connect(self) -> Link:
        if self.link is not None and not self.link.raw.closed and not self.link.raw.broken:
            return self.link
        await self._drop()
        raw = await self.writer.database.connect()
        try:
            # Named, so an operator (or a test) can tell the writers' sessions apart.
            label = f"{self.writer.name} {self.index}"
            await raw.execute("SELECT set_config('application_name', %s, false)", (label,))
        except BaseException:
            await raw.close()
            raise
        self.link = Link(raw, self.writer.database)
        return self.link

    async def _drop(self) -> None:
        link, self.link = self.link, None
        if link is not None:
            with contextlib.suppress(Exception):
                await link.raw.close()

    async def _write(self, batch: list[_Item[T, R]]) -> None:
        written = await self._attempt(batch)
        if written is None:
            return
        self.writer.batches += 1
        self.writer.items += len(batch)
        prior = self.announcing
        self.announcing = asyncio.ensure_future(self._finish(prior, batch, written))

    async def _attempt(self, batch: list[_Item[T, R]]) -> Written[R] | None:
        """The batch written, or None once its callers were told why it could not be."""
        writer = self.writer
        values = [item.value for item in batch]
        deadline = time.monotonic() + writer.retry_s
        delay = 0.05
        while True:
            try:
                return await writer.write(await self._connect(), values)
            except Exception as exc:  # every caller of the batch is answered
                if not retryable(exc):
                    log.exception("chat.batch_failed", lane=self.index, size=len(batch))
                    self._answer(batch, [exc] * len(batch))
                    return None
                if isinstance(exc, psycopg.OperationalError) and lost_link(exc):
                    await self._drop()
                if time.monotonic() + delay > deadline:
                    log.warning("chat.batch_unavailable", lane=self.index, error=str(exc)[:200])
                    down = ServiceUnavailable(f"Database {writer.database.name} unavailable")
                    self._answer(batch, [down] * len(batch))
                    return None
                log.warning(
                    "chat.batch_retried",
                    lane=self.index,
                    size=len(batch),
                    sqlstate=getattr(exc, "sqlstate", None),
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _finish(
        self, prior: asyncio.Future[None] | None, batch: list[_Item[T, R]], written: Written[R]
    ) -> None:
        """Announce after the batch before (commit order), then answer the callers."""
        if prior is not None:
            with contextlib.suppress(Exception):
                await prior
        if written.announce is not None:
            try:
                await written.announce()
            except Exception:  # stored either way; sockets catch up from the database
                log.warning("chat.announce_failed", exc_info=True)
        self._answer(batch, written.answers)

    @staticmethod
    def _answer(batch: list[_Item[T, R]], answers: list[R | BaseException]) -> None:
        for item, answer in zip(batch, answers, strict=True):
            if item.future.done():
                continue
            if isinstance(answer, BaseException):
                item.future.set_exception(answer)
            else:
                item.future.set_result(answer)

    async def close(self) -> None:
        self.wake.set()
        if self.task is not None:
            await self.task
        if self.announcing is not None:
            with contextlib.suppress(Exception):
                await self.announcing
        await self._drop()


class GroupWriter(Generic[T, R]):
    """Lanes that write what their callers hand them, in batches (see the module)."""

    def __init__(
        self,
        name: str,
        database: Database,
        write: WriteBatch[T, R],
        *,
        lanes: int,
        batch_max: int,
        linger_s: float,
        queue_max: int,
        retry_s: float,
    ) -> None:
        self.name = name
        self.database = database
        self.write = write
        self.batch_max = batch_max
        self.linger_s = linger_s
        self.retry_s = retry_s
        self.closing = False
        self.batches = 0  # batches committed since start (tests and benchmarks read deltas)
        self.items = 0  # items in them
        self._room = asyncio.Semaphore(queue_max)
        self._lanes = [_Lane(self, i) for i in range(lanes)]

    def start(self) -> None:
        for lane in self._lanes:
            lane.task = asyncio.create_task(lane.run(), name=f"{self.name}-{lane.index}")

    async def close(self) -> None:
        """Write what is queued, announce it, answer it; then close the connections."""
        self.closing = True
        await asyncio.gather(*(lane.close() for lane in self._lanes))

    @property
    def queued(self) -> int:
        return sum(len(lane.queue) for lane in self._lanes)

    async def submit(self, key: Hashable, value: T) -> R:
        """Write ``value`` in the next batch of its key's lane; its answer, after commit."""
        async with self._room:  # backpressure: wait for room, never refuse
            if self.closing:
                raise ServiceUnavailable("the service is shutting down")
            future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
            lane = self._lanes[hash(key) % len(self._lanes)]
            lane.queue.append(_Item(value, future))
            lane.wake.set()
            return await future
