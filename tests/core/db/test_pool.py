"""The pool, connections and transactions against a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

import msgspec
import psycopg
import pytest

from wealist.core.db import Database
from wealist.core.db.conn import QueryStats, request_query_stats
from wealist.core.db.queries import parse_queries
from wealist.devstack.servers import free_port

FreshDatabase = Callable[[str], Awaitable[str]]


class Note(msgspec.Struct):
    id: int
    body: str
    tags: list[str]


@pytest.fixture
async def db(fresh_database: FreshDatabase) -> AsyncIterator[Database]:
    url = await fresh_database("pool")
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(
            "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL UNIQUE,"
            " tags text[] NOT NULL DEFAULT '{}')"
        )
    database = Database("notes", url, min_size=2, max_size=4, timeout=5.0)
    await database.open(wait=True)
    try:
        yield database
    finally:
        await database.close()


async def count_notes(url: str) -> int:
    """Counted on a connection of its own: what other sessions can see."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        row = await (await conn.execute("SELECT count(*) FROM notes")).fetchone()
    assert row is not None
    return int(row[0])


# --- on_commit ----------------------------------------------------------------------------


async def test_on_commit_callbacks_run_after_commit_in_registration_order(db: Database) -> None:
    seen: list[tuple[str, int]] = []

    def first() -> None:
        seen.append(("sync", -1))

    async def second() -> None:
        # Runs after COMMIT: another session already sees the row.
        seen.append(("async", await count_notes(db.url)))

    async with db.transaction() as tx:
        tx.on_commit(first)
        await tx.execute("INSERT INTO notes (body) VALUES ('hello')")
        tx.on_commit(second)
        tx.on_commit(lambda: seen.append(("lambda", -1)))
        assert seen == []  # nothing runs inside the transaction
        assert await count_notes(db.url) == 0  # and nothing is visible yet

    assert seen == [("sync", -1), ("async", 1), ("lambda", -1)]


async def test_on_commit_callbacks_never_run_after_a_rollback(db: Database) -> None:
    seen: list[str] = []

    with pytest.raises(RuntimeError, match="boom"):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO notes (body) VALUES ('hello')")
            tx.on_commit(lambda: seen.append("ran"))
            raise RuntimeError("boom")

    await asyncio.sleep(0)
    assert seen == []
    assert await count_notes(db.url) == 0


async def test_a_swallowed_statement_error_fails_the_block_instead_of_faking_a_commit(
    db: Database,
) -> None:
    seen: list[str] = []

    with pytest.raises(psycopg.errors.InFailedSqlTransaction, match="rolled back"):
        async with db.transaction() as tx:
            tx.on_commit(lambda: seen.append("ran"))
            await tx.execute("INSERT INTO notes (body) VALUES ('kept?')")
            with contextlib.suppress(psycopg.errors.UniqueViolation):
                await tx.execute("INSERT INTO notes (body) VALUES ('kept?')")

    assert seen == []
    assert await count_notes(db.url) == 0
    async with db.connection() as conn:  # the pooled connection is usable again
        assert await conn.fetch_val("SELECT 1") == 1


async def test_an_error_recovered_by_a_savepoint_still_commits(db: Database) -> None:
    seen: list[str] = []
    async with db.transaction() as tx:
        tx.on_commit(lambda: seen.append("ran"))
        await tx.execute("INSERT INTO notes (body) VALUES ('once')")
        with contextlib.suppress(psycopg.errors.UniqueViolation):
            async with tx.raw.transaction():  # SAVEPOINT ... ROLLBACK TO SAVEPOINT
                await tx.execute("INSERT INTO notes (body) VALUES ('once')")
    assert seen == ["ran"]
    assert await count_notes(db.url) == 1


async def test_a_failing_callback_does_not_undo_the_commit_or_stop_the_others(db: Database) -> None:
    seen: list[str] = []

    def broken() -> None:
        raise RuntimeError("side effect failed")

    async def broken_async() -> None:
        raise RuntimeError("async side effect failed")

    async with db.transaction() as tx:
        await tx.execute("INSERT INTO notes (body) VALUES ('kept')")
        tx.on_commit(broken)
        tx.on_commit(broken_async)
        tx.on_commit(lambda: seen.append("after"))

    assert seen == ["after"]
    assert await count_notes(db.url) == 1


# --- typed fetch helpers ------------------------------------------------------------------


async def test_fetch_helpers_map_rows_into_structs(db: Database) -> None:
    queries = parse_queries(
        "-- name: add_note\n"
        "INSERT INTO notes (body, tags) VALUES (%(body)s, %(tags)s) RETURNING id\n"
        "-- name: get_note\nSELECT id, body, tags FROM notes WHERE id = %s\n",
        "notes.sql",
    )
    async with db.transaction() as tx:
        a = await tx.fetch_val(queries["add_note"], {"body": "a", "tags": ["x", "y"]})
        b = await tx.fetch_val(queries["add_note"], {"body": "b", "tags": []})

    async with db.connection() as conn:
        assert await conn.fetch_one(queries["get_note"], (a,), Note) == Note(a, "a", ["x", "y"])
        assert await conn.fetch_one(queries["get_note"], (-1,), Note) is None
        assert await conn.fetch_all("SELECT id, body, tags FROM notes ORDER BY id", None, Note) == [
            Note(a, "a", ["x", "y"]),
            Note(b, "b", []),
        ]
        assert (
            await conn.fetch_all("SELECT id, body, tags FROM notes WHERE false", None, Note) == []
        )
        assert await conn.fetch_column("SELECT body FROM notes ORDER BY id DESC") == ["b", "a"]
        assert await conn.fetch_val("SELECT body FROM notes WHERE false") is None
        assert await conn.execute("UPDATE notes SET tags = '{}'") == 2


# --- round-trip counting ------------------------------------------------------------------


async def test_round_trips_are_counted_per_database_and_per_request(db: Database) -> None:
    before = db.calls
    async with db.connection() as conn:
        await conn.fetch_val("SELECT 1")
        await conn.fetch_column("SELECT 1")
    assert db.calls - before == 2

    stats = QueryStats()
    token = request_query_stats.set(stats)
    try:
        async with db.transaction() as tx:  # statements count; BEGIN/COMMIT do not
            await tx.execute("INSERT INTO notes (body) VALUES ('a')")
            await tx.fetch_all("SELECT id, body, tags FROM notes", None, Note)
            with pytest.raises(psycopg.errors.UndefinedTable):
                await tx.execute("SELECT * FROM missing")  # a failed round trip is one too
    except psycopg.errors.InFailedSqlTransaction:
        pass
    finally:
        request_query_stats.reset(token)

    assert stats.calls == 3
    assert stats.seconds > 0
    assert db.calls - before == 5

    async with db.connection() as conn:  # outside a request: only the database counter moves
        await conn.fetch_val("SELECT 1")
    assert stats.calls == 3
    assert db.calls - before == 6


# --- broken connections, outages ----------------------------------------------------------


async def test_the_pool_replaces_connections_the_server_killed(db: Database) -> None:
    async def pids() -> set[int]:
        found: set[int] = set()
        async with contextlib.AsyncExitStack() as stack:  # hold every connection at once
            for _ in range(2):
                conn = await stack.enter_async_context(db.connection())
                found.add(await conn.fetch_val("SELECT pg_backend_pid()"))
        return found

    old = await pids()
    async with await psycopg.AsyncConnection.connect(db.url, autocommit=True) as admin:
        cur = await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert [r[0] for r in await cur.fetchall()] == [True] * len(old)

    # Every pooled connection is dead; each query still succeeds, on a new one.
    for _ in range(4):
        async with db.connection() as conn:
            assert await conn.fetch_val("SELECT pg_backend_pid()") not in old
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO notes (body) VALUES ('after')")
    assert await count_notes(db.url) == 1


async def test_ping_reports_ok_for_a_live_database(db: Database) -> None:
    assert await db.ping() == "ok"
    stats = db.stats()
    assert stats["max"] == 4
    assert stats["open"] >= 1
    assert stats["in_use"] == 0
    assert stats["idle"] == stats["open"]


async def pings_in_order(database: Database) -> None:
    """A ping with the pool's own timeout, then one with a shorter timeout: each answers
    "disconnected" when its own timeout runs out, so the later, shorter one ends first.

    The order follows their deadlines (timers of one event loop, fired earliest first even
    after a stall), never how fast the machine is. A ping that waited for anything else
    (the pool's timeout, a connection attempt, psycopg cancelling a hung query) would end
    with or after the first one."""
    finished: list[str] = []
    first = asyncio.ensure_future(database.ping(timeout=database.pool.timeout))
    first.add_done_callback(lambda _: finished.append("pool's timeout"))
    await asyncio.sleep(0)  # started first
    second = asyncio.ensure_future(database.ping(timeout=database.pool.timeout / 4))
    second.add_done_callback(lambda _: finished.append("a quarter of it"))
    assert await asyncio.gather(first, second) == ["disconnected", "disconnected"]
    assert finished == ["a quarter of it", "pool's timeout"]


async def test_ping_says_disconnected_within_its_timeout_when_nothing_listens() -> None:
    url = f"postgresql://127.0.0.1:{free_port()}/gone"
    database = Database("gone", url, min_size=1, timeout=2.0)
    await database.open(wait=False)
    try:
        await pings_in_order(database)
    finally:
        await database.close()


class Blackhole:
    """A TCP proxy to the database that can stop passing bytes (a hung link or host)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.open = asyncio.Event()
        self.open.set()
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        pipes = [
            asyncio.create_task(self._pipe(reader, up_writer)),
            asyncio.create_task(self._pipe(up_reader, writer)),
        ]
        self.tasks.update(pipes)
        await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for task in pipes:
            task.cancel()
        writer.close()
        up_writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                await self.open.wait()
                writer.write(data)
                await writer.drain()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def test_ping_says_disconnected_within_its_timeout_when_the_server_hangs(
    db: Database,
) -> None:
    parts = urlsplit(db.url)
    proxy = Blackhole(parts.hostname or "127.0.0.1", parts.port or 5432)
    port = await proxy.start()
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{port}" if userinfo else f"127.0.0.1:{port}"
    url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    hung = Database("hung", url, min_size=1, max_size=2, timeout=2.0)
    await hung.open(wait=True)
    try:
        assert await hung.ping(timeout=1.0) == "ok"
        proxy.open.clear()  # connections stay up, no answer comes back
        await pings_in_order(hung)
        # Both probes still wait on the hung link (psycopg tries to cancel their queries):
        # the pings answered without waiting for them.
        assert hung.stats()["in_use"] >= 1
        proxy.open.set()
        for _ in range(20):  # the link is back: so is the database
            if await hung.ping(timeout=1.0) == "ok":
                break
            await asyncio.sleep(0.1)
        assert await hung.ping(timeout=1.0) == "ok"
    finally:
        proxy.open.set()
        await hung.close()
        await proxy.close()


async def test_connection_attempts_are_bounded_unless_the_url_says_otherwise(
    db: Database,
) -> None:
    assert Database("a", "postgresql://127.0.0.1/x", timeout=5.0).connect_timeout == 5
    assert Database("b", "postgresql://127.0.0.1/x", timeout=0.5).connect_timeout == 2
    assert Database("c", "postgresql://127.0.0.1/x?connect_timeout=9").connect_timeout is None
    async with await db.connect() as conn:  # a dedicated connection, e.g. for LISTEN
        assert conn.autocommit
        assert conn.info.get_parameters().get("connect_timeout") == str(db.connect_timeout)
