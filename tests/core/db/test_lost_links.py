"""Dead pooled connections against a real PostgreSQL server: a checkout costs no round
trip of its own, connections the server killed are never lent, idle ones are swept, and a
first statement that still meets a lost link is retried once, where that is safe."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import psycopg
import pytest

from tests.core.db.wire import WireProxy
from tests.core.realtime.waiting import eventually
from wealist.core.db import Database
from wealist.core.errors import ServiceUnavailable

FreshDatabase = Callable[[str], Awaitable[str]]


@pytest.fixture
async def url(fresh_database: FreshDatabase) -> str:
    url = await fresh_database("links")
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)")
    return url


@pytest.fixture
async def proxy(url: str) -> AsyncIterator[WireProxy]:
    proxy = await WireProxy(url).start()
    try:
        yield proxy
    finally:
        await proxy.close()


@contextlib.asynccontextmanager
async def opened(url: str, size: int, check_interval_s: float = 30.0) -> AsyncIterator[Database]:
    database = Database(
        "links", url, min_size=size, max_size=size, timeout=5.0, check_interval_s=check_interval_s
    )
    await database.open(wait=True)
    try:
        yield database
    finally:
        await database.close()


async def backends(url: str) -> set[int]:
    """The server's sessions on the database of ``url``, but the one asking."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
        cur = await admin.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {int(r[0]) for r in await cur.fetchall()}


async def terminate_all(url: str) -> set[int]:
    """``pg_terminate_backend`` on every other session of the database; waits until the
    server shows none of them (each one sent its FATAL and closed its socket)."""
    victims = await backends(url)
    assert victims
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
        for pid in victims:
            await admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    async def gone() -> bool:
        return not (victims & await backends(url))

    await eventually(gone)
    return victims


async def count_notes(url: str) -> dict[str, int]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cur = await conn.execute("SELECT body, count(*) FROM notes GROUP BY body")
        return {str(body): int(n) for body, n in await cur.fetchall()}


def replaced(database: Database) -> int:
    """Connections the pool dropped as broken (at a checkout, a return or a sweep)."""
    stats = database.pool.get_stats()
    return stats.get("returns_bad", 0) + stats.get("connections_lost", 0)


# --- no round trip per checkout -------------------------------------------------------------


async def test_a_checkout_sends_the_server_nothing_but_the_statements(
    url: str, proxy: WireProxy
) -> None:
    async with opened(proxy.proxied(url), 2) as database:
        before = proxy.statements
        for n in range(20):
            async with database.connection() as conn:
                assert await conn.fetch_val("SELECT %s::int", (n,)) == n
        assert proxy.statements - before == 20  # one per read: no check query before it

        before = proxy.statements
        for n in range(5):
            async with database.transaction() as tx:
                await tx.execute("INSERT INTO notes (body) VALUES (%s)", (f"n{n}",))
        assert proxy.statements - before == 5 * 3  # BEGIN, INSERT, COMMIT

        before = proxy.statements
        assert await database.ping() == "ok"
        assert proxy.statements - before == 1  # SELECT 1


# --- connections the server killed ----------------------------------------------------------


async def test_reads_and_transactions_after_every_backend_was_terminated_all_succeed(
    url: str,
) -> None:
    async with opened(url, 4) as database:
        old = await terminate_all(url)
        assert len(old) == 4  # every pooled connection is dead

        async def read() -> int:
            async with database.connection() as conn:
                return int(await conn.fetch_val("SELECT pg_backend_pid()"))

        async def write(n: int) -> None:
            async with database.transaction() as tx:
                await tx.execute("INSERT INTO notes (body) VALUES ('after')")
                await tx.fetch_val("SELECT count(*) FROM notes")

        assert (await read()) not in old  # one request alone walks past every dead one
        results = await asyncio.gather(
            *(read() for _ in range(40)), *(write(n) for n in range(20)), return_exceptions=True
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        assert failures == []
        assert not {r for r in results if isinstance(r, int)} & old
        assert await count_notes(url) == {"after": 20}
        assert replaced(database) >= len(old)
        assert not old & await backends(url)
        async with contextlib.AsyncExitStack() as stack:  # every connection it lends is new
            for _ in range(4):
                conn = await stack.enter_async_context(database.connection())
                assert await conn.fetch_val("SELECT pg_backend_pid()") not in old


async def test_terminated_connections_are_refused_without_sending_them_a_statement(
    url: str, proxy: WireProxy
) -> None:
    async with opened(proxy.proxied(url), 3) as database:
        await terminate_all(url)
        await eventually(lambda: proxy.live == 0)  # the proxy passed each FATAL and EOF on
        before = proxy.statements
        for _ in range(10):
            async with database.connection() as conn:
                assert await conn.fetch_val("SELECT 1") == 1
        # No statement went to a dead connection (none failed and was retried).
        assert proxy.statements - before == 10
        assert replaced(database) == 3


async def test_the_background_check_replaces_dead_idle_connections(url: str) -> None:
    async with opened(url, 2, check_interval_s=0.05) as database:
        old = await terminate_all(url)

        async def new_sessions() -> int:
            return len(await backends(url) - old)

        # Nobody asks the pool for a connection: the sweep alone finds the dead ones, and
        # the pool opens new ones in their place.
        await eventually(new_sessions, equals=2)
        assert database.pool.get_stats().get("connections_lost", 0) == 2
        assert database.stats()["idle"] == 2
        names = {t.get_name() for t in asyncio.all_tasks()}
        assert "links-pool-check" in names
    # close() stopped the sweep along with the pool.
    assert "links-pool-check" not in {t.get_name() for t in asyncio.all_tasks()}


# --- a link lost at the first statement -----------------------------------------------------


async def test_a_first_read_that_meets_a_lost_link_runs_again_on_a_fresh_connection(
    url: str, proxy: WireProxy
) -> None:
    async with opened(proxy.proxied(url), 2) as database:
        proxy.cut_at("'doomed read'")
        async with database.connection() as conn:
            assert await conn.fetch_val("SELECT 'doomed read'") == "doomed read"
            assert await conn.fetch_val("SELECT 2") == 2  # the block goes on, on the new one
        assert proxy.cuts == 1


async def test_a_transaction_whose_begin_meets_a_lost_link_begins_again(
    url: str, proxy: WireProxy
) -> None:
    async with opened(proxy.proxied(url), 2) as database:
        proxy.cut_at("BEGIN")
        async with database.transaction() as tx:
            await tx.execute("INSERT INTO notes (body) VALUES ('begun again')")
        assert proxy.cuts == 1
        assert await count_notes(url) == {"begun again": 1}


async def test_a_transaction_whose_first_statement_meets_a_lost_link_runs_again(
    url: str, proxy: WireProxy
) -> None:
    async with opened(proxy.proxied(url), 2) as database:
        seen: list[str] = []
        proxy.cut_at("'first'")
        async with database.transaction() as tx:
            tx.on_commit(lambda: seen.append("committed"))
            await tx.execute("INSERT INTO notes (body) VALUES ('first')")
            await tx.execute("INSERT INTO notes (body) VALUES ('second')")
        assert proxy.cuts == 1
        assert await count_notes(url) == {"first": 1, "second": 1}
        assert seen == ["committed"]


async def test_the_retry_happens_once_then_the_lost_link_is_an_outage(
    url: str, proxy: WireProxy
) -> None:
    async with opened(proxy.proxied(url), 2) as database:
        proxy.cut_at("'twice'", times=2)
        with pytest.raises(ServiceUnavailable):
            async with database.connection() as conn:
                await conn.fetch_val("SELECT 'twice'")
        assert proxy.cuts == 2
        async with database.connection() as conn:  # the pool lends sound connections again
            assert await conn.fetch_val("SELECT 1") == 1


# --- never retried ------------------------------------------------------------------------


async def test_a_transaction_that_did_work_is_not_retried_when_its_link_dies(
    url: str, proxy: WireProxy
) -> None:
    async with opened(proxy.proxied(url), 2) as database:
        seen: list[str] = []
        with pytest.raises(ServiceUnavailable) as raised:
            async with database.transaction() as tx:
                tx.on_commit(lambda: seen.append("committed"))
                await tx.execute("INSERT INTO notes (body) VALUES ('done')")
                proxy.cut_at("'lost'")
                await tx.execute("INSERT INTO notes (body) VALUES ('lost')")
        assert isinstance(raised.value.__cause__, psycopg.OperationalError)
        assert proxy.cuts == 1
        assert proxy.kinds[b"P"] + proxy.kinds[b"Q"] >= 2  # BEGIN and the first INSERT went
        assert await count_notes(url) == {}  # rolled back with its link, never replayed
        assert seen == []
        async with database.transaction() as tx:  # and the pool goes on
            await tx.execute("INSERT INTO notes (body) VALUES ('next')")
        assert await count_notes(url) == {"next": 1}


async def test_a_read_after_a_statement_that_succeeded_is_not_retried(
    url: str, proxy: WireProxy
) -> None:
    async with opened(proxy.proxied(url), 2) as database:
        with pytest.raises(ServiceUnavailable):
            async with database.connection() as conn:
                await conn.execute("INSERT INTO notes (body) VALUES ('once')")
                proxy.cut_at("'after'")
                await conn.fetch_val("SELECT 'after'")
        assert proxy.cuts == 1
        assert await count_notes(url) == {"once": 1}


async def test_a_read_after_a_failed_statement_is_not_retried(url: str, proxy: WireProxy) -> None:
    async with opened(proxy.proxied(url), 2) as database:
        with pytest.raises(ServiceUnavailable):
            async with database.connection() as conn:
                with pytest.raises(psycopg.errors.UndefinedTable):
                    await conn.fetch_val("SELECT * FROM missing")
                proxy.cut_at("'after'")
                await conn.fetch_val("SELECT 'after'")
        assert proxy.cuts == 1


async def test_nothing_is_retried_once_the_raw_connection_was_used(
    url: str, proxy: WireProxy
) -> None:
    async with opened(proxy.proxied(url), 2) as database:
        with pytest.raises(ServiceUnavailable):
            async with database.connection() as conn:
                await conn.raw.execute("SET application_name = 'mine'")  # session state
                proxy.cut_at("'after'")
                await conn.fetch_val("SELECT 'after'")
        assert proxy.cuts == 1


async def test_a_savepoint_ends_the_retry(url: str, proxy: WireProxy) -> None:
    async with opened(proxy.proxied(url), 2) as database:
        with pytest.raises(ServiceUnavailable):
            async with database.transaction() as tx, tx.savepoint():
                proxy.cut_at("'inside'")
                await tx.execute("INSERT INTO notes (body) VALUES ('inside')")
        assert proxy.cuts == 1
        assert await count_notes(url) == {}
