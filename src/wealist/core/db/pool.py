"""One psycopg connection pool per service database, with counted, typed query helpers.

``Database.connection()`` lends an autocommit connection for reads; ``Database.transaction()``
lends a :class:`~wealist.core.db.conn.Tx`. Both count round trips per request (for the access
log) and per database (for tests that pin a hot endpoint's query budget).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool

from wealist.core.db.conn import Conn, Tx, request_query_stats
from wealist.core.errors import ServiceUnavailable

__all__ = ("Database",)


def _lost_link(exc: psycopg.OperationalError) -> bool:
    """The link to the server failed (no SQLSTATE: the client saw it; 08: connection
    exception; 57P: the server is shutting down), not the statement: a pool timeout
    while the server is away included."""
    state = exc.sqlstate
    return state is None or state.startswith(("08", "57P"))


@asynccontextmanager
async def _outage_is_503(name: str) -> AsyncIterator[None]:
    # A request that meets a database outage answers 503 in the service's envelope (the
    # client retries later), never a 500 as if the request itself were at fault.
    try:
        yield
    except psycopg.OperationalError as exc:
        if not _lost_link(exc):
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
    ) -> None:
        self.name = name
        self.url = url
        self.calls = 0  # round trips since start; tests read deltas of it
        # (pending events, age of the oldest in seconds), measured by this database's
        # outbox relay after each drain; None where no relay runs (core.outbox).
        self.outbox_backlog: tuple[int, int] | None = None
        self._probes: set[asyncio.Future[None]] = set()
        # Connection attempts are bounded too (unless the URL says otherwise): against a
        # blackholed host they would otherwise wait for the OS's TCP timeout, minutes.
        self.connect_timeout: int | None = None
        if "connect_timeout" not in conninfo_to_dict(url):
            self.connect_timeout = max(2, math.ceil(timeout))
        kwargs: dict[str, object] = {"autocommit": True}
        if self.connect_timeout is not None:
            kwargs["connect_timeout"] = self.connect_timeout
        self.pool = AsyncConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            max_waiting=max_waiting,
            open=False,
            check=AsyncConnectionPool.check_connection,
            kwargs=kwargs,
            name=name,
        )

    async def open(self, wait: bool = False, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        await self.pool.open(wait=wait, timeout=timeout)

    async def close(self) -> None:
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
        async with _outage_is_503(self.name), self.pool.connection() as raw:
            yield Conn(raw, self)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """A transaction; ``tx.on_commit`` callbacks run only after it commits."""
        async with _outage_is_503(self.name), self.pool.connection() as raw:
            tx = Tx(raw, self)
            async with raw.transaction():
                yield tx
                if raw.info.transaction_status == TransactionStatus.INERROR:
                    # A statement failed and the caller swallowed the error: COMMIT would
                    # silently roll back, and the on_commit callbacks would announce data
                    # that does not exist. Fail the block instead.
                    raise psycopg.errors.InFailedSqlTransaction(
                        "the transaction was aborted by an earlier error and rolled back"
                    )
        await tx.run_commit_callbacks()

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
        async with self.pool.connection(timeout=timeout) as raw:
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
