"""One psycopg connection pool per service database, with counted, typed query helpers.

``Database.connection()`` lends an autocommit connection for reads; ``Database.transaction()``
lends a :class:`~wealist.core.db.conn.Tx`. Both count round trips per request (for the access
log) and per database (for tests that pin a hot endpoint's query budget).

A checkout makes no round trip of its own. The pool used to run an empty query on every
connection it lent (psycopg_pool's ``check_connection``): a whole extra round trip per
request, 8 % of the CPU of a one-query read. What guards against dead connections
instead, none of it a round trip:

- at checkout, :func:`_stale` refuses a connection that is closed or broken, not idle, or
  whose socket is readable while idle. A pooled autocommit connection without LISTEN has
  nothing to read, unless the server closed it: after ``pg_terminate_backend``, a restart
  or a reset link PostgreSQL's FATAL message or the EOF is waiting there. A refused
  connection is closed, so the pool replaces it, and the next one is taken at once. (Not
  psycopg_pool's ``check=`` callback: after a failed check it sleeps 1 s, then 2 s, 4 s...
  before the next connection, and puts a refused connection that still looks idle back.)
- every ``check_interval_s`` (30 s) the pool's ``check()`` runs the same test on every
  idle connection, so a dead one is replaced before a request meets it (psycopg_pool's
  ``max_lifetime``, 1 h, still renews every connection, ``max_idle`` closes spare ones).
- a connection can still die between that test and its first statement: that statement
  (or the BEGIN of a transaction) is run once more on a fresh connection
  (:mod:`wealist.core.db.conn` says when that is safe). Whatever fails after it, or a
  link lost on the retry too, is an outage: 503 (:func:`_outage_is_503`).

A host gone without a word (no FIN, no reset) leaves nothing to read: the test cannot see
it, and the first statement waits on the link as it did behind the old check (the health
check's ``ping`` is bounded all the same).

Measured on the busy 2-core test machine over a loopback link (5 rounds each): the test
costs 1.3 to 2.3 µs a call (a zero-timeout ``poll`` on the socket), the empty query it
replaces 140 to 180 µs; a checkout plus ``SELECT 1`` took 370 to 560 µs before and takes
245 to 305 µs now. Over a real network the round trip saved is larger.
"""

from __future__ import annotations

import asyncio
import math
import select
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from types import TracebackType
from typing import Any

import psycopg
import structlog
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool
from typing_extensions import override

from wealist.core.db.conn import Conn, Tx, lost_link, request_query_stats
from wealist.core.errors import ServiceUnavailable
from wealist.core.jobs import periodic

__all__ = ("Database",)

log = structlog.get_logger("wealist.db")

Raw = psycopg.AsyncConnection[Any]

_lost_link = lost_link  # the name this module has always used


def _stale(conn: Raw) -> str | None:
    """Why ``conn`` must not serve a request, found without a round trip; None if it may.

    ``transaction_status`` is UNKNOWN for a closed or broken connection. Readable while
    idle means the server said something nobody asked for: a FATAL before it hung up, the
    EOF, a reset (or, rarely, a harmless ParameterStatus after a configuration reload: the
    connection is replaced for nothing)."""
    pgconn = conn.pgconn
    if pgconn.transaction_status != TransactionStatus.IDLE:
        return "closed" if conn.closed else "not idle"
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN)
    if poller.poll(0):
        return "closed by the server"
    return None


class _Pool(AsyncConnectionPool[Raw]):
    """psycopg_pool's pool whose ``check()`` (the background sweep) tests connections as a
    checkout does: without a round trip, and never hanging on a hung link."""

    @staticmethod
    @override
    async def check_connection(conn: Raw) -> None:
        if (reason := _stale(conn)) is not None:
            await conn.close()  # check() drops a failed connection without closing it
            raise psycopg.OperationalError(f"pooled connection {reason}")


@asynccontextmanager
async def _outage_is_503(name: str) -> AsyncIterator[None]:
    # A request that meets a database outage answers 503 in the service's envelope (the
    # client retries later), never a 500 as if the request itself were at fault.
    try:
        yield
    except psycopg.OperationalError as exc:
        if not lost_link(exc):
            raise
        raise ServiceUnavailable(f"Database {name} unavailable") from exc


class Database:
    """A named pool over one PostgreSQL database."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        min_size: int = 2,
        max_size: int = 10,
        timeout: float = 5.0,
        max_waiting: int = 200,
        check_interval_s: float = 30.0,
    ) -> None:
        self.name = name
        self.url = url
        self.calls = 0  # round trips since start; tests read deltas of it
        # (pending events, age of the oldest in seconds), measured by this database's
        # outbox relay after each drain; None where no relay runs (core.outbox).
        self.outbox_backlog: tuple[int, int] | None = None
        self._probes: set[asyncio.Future[None]] = set()
        self.check_interval_s = check_interval_s  # the idle connections' sweep; 0: none
        self._sweep: AsyncExitStack | None = None
        # Connection attempts are bounded too (unless the URL says otherwise): against a
        # blackholed host they would otherwise wait for the OS's TCP timeout, minutes.
        self.connect_timeout: int | None = None
        if "connect_timeout" not in conninfo_to_dict(url):
            self.connect_timeout = max(2, math.ceil(timeout))
        kwargs: dict[str, object] = {"autocommit": True}
        if self.connect_timeout is not None:
            kwargs["connect_timeout"] = self.connect_timeout
        self.pool: AsyncConnectionPool[Raw] = _Pool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            max_waiting=max_waiting,
            open=False,
            kwargs=kwargs,
            name=name,
        )

    async def open(self, wait: bool = False, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        await self.pool.open(wait=wait, timeout=timeout)
        if self._sweep is None and self.check_interval_s > 0:
            sweep = AsyncExitStack()
            await sweep.enter_async_context(
                periodic(self.name, {"pool-check": (self.check_interval_s, self.pool.check)})
            )
            self._sweep = sweep

    async def close(self) -> None:
        sweep, self._sweep = self._sweep, None
        if sweep is not None:
            await sweep.aclose()  # the sweep ends first: it never meets a closed pool
        await self.pool.close()

    async def connect(self) -> psycopg.AsyncConnection[tuple[Any, ...]]:
        """A dedicated autocommit connection outside the pool (``LISTEN``); close it yourself."""
        if self.connect_timeout is None:
            return await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        return await psycopg.AsyncConnection.connect(
            self.url, autocommit=True, connect_timeout=self.connect_timeout
        )

    def count(self, seconds: float) -> None:
        self.calls += 1
        stats = request_query_stats.get()
        if stats is not None:
            stats.calls += 1
            stats.seconds += seconds

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Conn]:
        """An autocommit connection: each statement commits on its own."""
        async with _outage_is_503(self.name), _Lease(self, begin=False) as lease:
            yield Conn(lease.raw, self, lease.renew)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """A transaction; ``tx.on_commit`` callbacks run only after it commits."""
        async with _outage_is_503(self.name), _Lease(self, begin=True) as lease:
            tx = Tx(lease.raw, self, lease.renew)
            yield tx
            if lease.raw.info.transaction_status == TransactionStatus.INERROR:
                # A statement failed and the caller swallowed the error: COMMIT would
                # silently roll back, and the on_commit callbacks would announce data
                # that does not exist. Fail the block instead.
                raise psycopg.errors.InFailedSqlTransaction(
                    "the transaction was aborted by an earlier error and rolled back"
                )
        await tx.run_commit_callbacks()

    async def _checkout(self, timeout: float) -> Raw:  # noqa: ASYNC109
        """A connection from the pool that :func:`_stale` finds sound, within ``timeout``.

        A stale one is closed and given back (the pool opens a replacement in the
        background) and the next is taken at once: after a restart every idle connection
        is dead, and a request walks past them without waiting."""
        deadline = time.monotonic() + timeout
        while True:
            raw = await self.pool.getconn(timeout=max(deadline - time.monotonic(), 0.0))
            reason = _stale(raw)
            if reason is None:
                return raw
            log.info("db.stale_connection_replaced", database=self.name, reason=reason)
            await raw.close()
            await self.pool.putconn(raw)

    @asynccontextmanager
    async def _borrow(self, timeout: float) -> AsyncIterator[Raw]:  # noqa: ASYNC109
        """What ``pool.connection()`` does, with :meth:`_checkout`."""
        raw = await self._checkout(timeout)
        try:
            async with raw:  # commit or roll back what is left open, as the pool does
                yield raw
        finally:
            await self.pool.putconn(raw)

    async def ping(self, timeout: float = 2.0) -> str:  # noqa: ASYNC109
        """``ok``, or ``disconnected`` when ``SELECT 1`` did not answer within ``timeout``.

        The bound covers getting a connection *and* the query, so a server that accepts
        connections but never answers (a hung host, a blackholed link) is reported in time.
        The probe runs as a task of its own: on a hung link psycopg spends several more
        seconds trying to cancel the query before it drops the connection, and a health
        check must not wait for that.
        """
        probe = asyncio.ensure_future(self._select_one(timeout))
        try:
            done, _ = await asyncio.wait({probe}, timeout=timeout)
        except asyncio.CancelledError:
            self._abandon(probe)
            raise
        if not done:
            self._abandon(probe)
            return "disconnected"
        try:
            probe.result()
        except (psycopg.Error, TimeoutError, OSError):
            return "disconnected"
        return "ok"

    async def _select_one(self, timeout: float) -> None:  # noqa: ASYNC109
        async with self._borrow(timeout) as raw:
            await raw.execute("SELECT 1")

    def _abandon(self, probe: asyncio.Future[None]) -> None:
        """Cancel a probe and let it finish in the background (keeping a reference)."""
        probe.cancel()
        self._probes.add(probe)
        probe.add_done_callback(self._reap)

    def _reap(self, probe: asyncio.Future[None]) -> None:
        self._probes.discard(probe)
        if not probe.cancelled():
            probe.exception()  # retrieved: a late failure of an abandoned probe is expected

    def stats(self) -> dict[str, int]:
        """Pool gauges for /metrics (open, in use, idle, max, waiting requests), and the
        outbox backlog when a relay measures it."""
        s = self.pool.get_stats()
        size = s.get("pool_size", 0)
        idle = s.get("pool_available", 0)
        found = {
            "open": size,
            "in_use": max(size - idle, 0),
            "idle": idle,
            "max": self.pool.max_size,
            "waiting": s.get("requests_waiting", 0),
            "wait_total": s.get("requests_queued", 0),
            "wait_ms_total": s.get("requests_wait_ms", 0),
        }
        if self.outbox_backlog is not None:
            found["outbox_pending"], found["outbox_oldest_age_s"] = self.outbox_backlog
        return found


class _Lease:
    """The connection of one ``connection()`` or ``transaction()`` block, checked out (and
    in a transaction, BEGIN run) on entry, given back on exit.

    It can be renewed once, while nothing has run on it yet (the Conn gives up ``renew``
    after its first statement), when that first statement or the BEGIN met a lost link.
    The block waits for connections at most the pool's timeout in all, its retry included.
    """

    __slots__ = ("_begin", "_db", "_deadline", "_held", "_raw", "_renewed")

    def __init__(self, db: Database, *, begin: bool) -> None:
        self._db = db
        self._begin = begin
        self._deadline = time.monotonic() + db.pool.timeout
        self._held: AsyncExitStack | None = None  # the checkout (and the transaction)
        self._raw: Raw | None = None
        self._renewed = False

    @property
    def raw(self) -> Raw:
        assert self._raw is not None, "the lease holds no connection"
        return self._raw

    async def _take(self) -> None:
        self._raw = None
        async with AsyncExitStack() as stack:
            raw = await stack.enter_async_context(
                self._db._borrow(self._deadline - time.monotonic())
            )
            self._raw = raw
            if self._begin:
                try:
                    await stack.enter_async_context(raw.transaction())
                except psycopg.OperationalError as exc:
                    if lost_link(exc):
                        await raw.close()  # given back closed: the pool replaces it
                    raise
            self._held = stack.pop_all()

    async def __aenter__(self) -> _Lease:
        try:
            await self._take()
        except psycopg.OperationalError as exc:
            if self._raw is None or not lost_link(exc):
                raise  # no connection came (an outage), or BEGIN was refused
            await self._again(exc)  # BEGIN met a lost link: nothing ran yet
        return self

    async def renew(self, lost: psycopg.OperationalError) -> Raw:
        """Give back the connection whose first statement met a lost link; take another."""
        held, self._held = self._held, None
        await self.raw.close()  # closed, so the pool replaces it
        if held is not None:
            await held.__aexit__(type(lost), lost, lost.__traceback__)
        await self._again(lost)
        return self.raw

    async def _again(self, lost: psycopg.OperationalError) -> None:
        if self._renewed or time.monotonic() >= self._deadline:
            raise lost
        self._renewed = True
        log.warning(
            "db.lost_link_retried",
            database=self._db.name,
            sqlstate=lost.sqlstate,
            error=str(lost).strip()[:200],
        )
        await self._take()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        held, self._held = self._held, None
        if held is None:
            return False
        return bool(await held.__aexit__(exc_type, exc, tb))
