"""Borrowed connections: typed fetch helpers, round-trip counting, and ``Tx.on_commit``.

A connection just taken from the pool may still die between the pool's check and its
first statement (the server killed it that instant). When that first statement meets a
lost link it runs once more on a fresh connection (``renew``, given by the pool). In a
transaction nothing can have been kept (no COMMIT was sent); an autocommit statement is
repeated only if the link broke after the server had run it and before its answer came
back, on a connection that was sound a moment earlier. Nothing after a statement that
succeeded, nothing run on ``raw`` directly, no savepoint is ever retried.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, LiteralString, Protocol, TypeVar

import msgspec
import psycopg
import structlog
from psycopg import sql as pgsql
from psycopg.rows import class_row, tuple_row

from wealist.core.db.queries import Query
from wealist.core.errors import ValidationFailed

__all__ = (
    "CommitCallback",
    "Conn",
    "QueryCounter",
    "QueryStats",
    "Renew",
    "Tx",
    "lost_link",
    "request_query_stats",
)

log = structlog.get_logger("wealist.db")

R = TypeVar("R", bound=msgspec.Struct)
Params = Sequence[Any] | dict[str, Any] | None
# What psycopg executes: literal text, or text composed with psycopg.sql (SQL or Composed).
Statement = Query | LiteralString | pgsql.SQL | pgsql.Composed


class QueryStats:
    """Round trips and time spent in the database for one request."""

    __slots__ = ("calls", "seconds")

    def __init__(self) -> None:
        self.calls = 0
        self.seconds = 0.0


request_query_stats: contextvars.ContextVar[QueryStats | None] = contextvars.ContextVar(
    "request_query_stats", default=None
)


def lost_link(exc: psycopg.OperationalError) -> bool:
    """The link to the server failed (no SQLSTATE: the client saw it; 08: connection
    exception; 57P: the server is shutting down), not the statement: a pool timeout
    while the server is away included."""
    state = exc.sqlstate
    return state is None or state.startswith(("08", "57P"))


def _unstorable_text(exc: psycopg.DataError) -> bool:
    """Text PostgreSQL cannot hold: a NUL character, refused by the driver before the
    query is sent, or by ``jsonb`` as ``\\u0000`` (22P05, untranslatable character). Only
    a client's text can carry one, in any parameter or field that reaches a query: the
    client's error (400), not a 500."""
    if exc.sqlstate is None:
        return "NUL" in str(exc)  # "PostgreSQL text fields cannot contain NUL (0x00) bytes"
    return exc.sqlstate == "22P05"


def _text(statement: Statement) -> LiteralString | pgsql.SQL | pgsql.Composed:
    return statement.sql if isinstance(statement, Query) else statement


class QueryCounter(Protocol):
    def count(self, seconds: float) -> None: ...


# Gives back a connection that lost its link before anything ran on it and lends another
# (ready for the same use: in a transaction when the first was); raises when it cannot.
Renew = Callable[[psycopg.OperationalError], Awaitable[psycopg.AsyncConnection[Any]]]


class Conn:
    """A borrowed connection with typed fetch helpers. Every call is one round trip (a
    first statement retried on a fresh connection is two, counted as two)."""

    __slots__ = ("_counter", "_raw", "_renew")

    def __init__(
        self,
        raw: psycopg.AsyncConnection[Any],
        counter: QueryCounter,
        renew: Renew | None = None,
    ) -> None:
        self._raw = raw
        self._counter = counter
        self._renew = renew  # set until the first statement: then a retry is no longer safe

    @property
    def raw(self) -> psycopg.AsyncConnection[Any]:
        """The psycopg connection itself. Taking it ends the first statement's retry:
        what runs on it directly is not ours to repeat on another connection."""
        self._renew = None
        return self._raw

    async def _run(
        self, statement: Statement, params: Params, row: Any
    ) -> psycopg.AsyncCursor[Any]:
        renew, self._renew = self._renew, None
        if renew is None:
            return await self._once(statement, params, row)
        try:
            return await self._once(statement, params, row)
        except psycopg.OperationalError as exc:
            if not lost_link(exc):
                raise
            # The connection passed the pool's check an instant ago and died before
            # this first statement could run (see the module's docstring): once more,
            # on a fresh connection.
            self._raw = await renew(exc)
        return await self._once(statement, params, row)

    async def _once(
        self, statement: Statement, params: Params, row: Any
    ) -> psycopg.AsyncCursor[Any]:
        started = time.perf_counter()
        cur = self._raw.cursor(row_factory=row)
        try:
            await cur.execute(_text(statement), params)
        except psycopg.DataError as exc:
            if _unstorable_text(exc):
                raise ValidationFailed("text must not contain NUL characters") from exc
            raise
        finally:
            self._counter.count(time.perf_counter() - started)
        return cur

    async def execute(self, statement: Statement, params: Params = None) -> int:
        """Run a write; return the number of rows it touched."""
        cur = await self._run(statement, params, tuple_row)
        return cur.rowcount

    async def fetch_one(self, statement: Statement, params: Params, row: type[R]) -> R | None:
        cur = await self._run(statement, params, class_row(row))
        return await cur.fetchone()

    async def fetch_all(self, statement: Statement, params: Params, row: type[R]) -> list[R]:
        cur = await self._run(statement, params, class_row(row))
        return await cur.fetchall()

    async def fetch_val(self, statement: Statement, params: Params = None) -> Any:
        """The first column of the first row, or None when there is no row."""
        cur = await self._run(statement, params, tuple_row)
        found = await cur.fetchone()
        return None if found is None else found[0]

    async def fetch_column(self, statement: Statement, params: Params = None) -> list[Any]:
        cur = await self._run(statement, params, tuple_row)
        return [r[0] for r in await cur.fetchall()]


CommitCallback = Callable[[], Awaitable[None] | None]


class Tx(Conn):
    """A connection inside a transaction, plus :meth:`on_commit`.

    Publishing events, sending frames or calling other services happens in callbacks
    registered with :meth:`on_commit`: they run after COMMIT, and never after a rollback.
    """

    __slots__ = ("_callbacks",)

    def __init__(
        self,
        raw: psycopg.AsyncConnection[Any],
        counter: QueryCounter,
        renew: Renew | None = None,
    ) -> None:
        super().__init__(raw, counter, renew)
        self._callbacks: list[CommitCallback] = []

    def on_commit(self, callback: CommitCallback) -> None:
        """Run ``callback`` after the transaction commits (in registration order)."""
        self._callbacks.append(callback)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested block that rolls back alone (SAVEPOINT): the transaction goes on, and
        the on_commit callbacks registered inside a rolled-back block are dropped with it."""
        mark = len(self._callbacks)
        try:
            async with self.raw.transaction():  # .raw: no retry once a SAVEPOINT ran
                yield
        except BaseException:
            del self._callbacks[mark:]
            raise

    async def run_commit_callbacks(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                result = callback()
                if result is not None:
                    await result
            except Exception:  # the data is committed; a failed side effect must not undo it
                log.exception("db.on_commit_failed", callback=getattr(callback, "__name__", "?"))
