"""Kernel fixes the chaos scenarios led to, pinned at the unit where they live.

T19 found that a request whose database connection broke mid-query answered 500 (an
unhandled ``OperationalError``): an outage is now a 503 in the service's envelope, while
an error of the statement itself stays what it was.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from tests.core.realtime.waiting import eventually
from tests.plugins.faultproxy import FaultProxy
from wealist.core.db import Database
from wealist.core.errors import ServiceUnavailable


async def test_a_connection_lost_mid_request_is_a_503_and_the_pool_recovers(
    fault_proxy: Callable[[str], FaultProxy], environment: object
) -> None:
    url = environment.databases["board"]  # type: ignore[attr-defined]
    proxy = fault_proxy(url)
    db = Database("board_db", proxy.proxied(url), min_size=1, max_size=2, timeout=1.0)
    await db.open(wait=True)
    try:
        with pytest.raises(ServiceUnavailable):
            async with db.connection() as conn:
                await conn.execute("SELECT 1")  # a first statement meeting a lost link is retried
                proxy.reset()  # the server goes away under a connection in use
                await conn.execute("SELECT 1")
        proxy.down()
        with pytest.raises(ServiceUnavailable):  # the pool's wait runs out: 503 too
            async with db.transaction() as tx:
                await tx.execute("SELECT 1")
        proxy.heal()

        async def recovered() -> bool:
            # The pool reconnects with its own backoff (a second or more after failures):
            # it comes back, though not necessarily within one wait of 1 s.
            try:
                async with db.connection() as conn:
                    await conn.execute("SELECT 1")
            except ServiceUnavailable:
                return False
            return True

        await eventually(recovered, timeout=30, every=0.2)
    finally:
        await db.close()


async def test_an_error_of_the_statement_itself_is_not_turned_into_a_503(
    environment: object,
) -> None:
    url = environment.databases["board"]  # type: ignore[attr-defined]
    db = Database("board_db", url, min_size=1, max_size=1)
    await db.open(wait=True)
    try:
        with pytest.raises(psycopg.errors.QueryCanceled):
            async with db.transaction() as tx:
                await tx.execute("SET LOCAL statement_timeout = 1")
                await tx.execute("SELECT pg_sleep(1)")
        with pytest.raises(psycopg.errors.UndefinedTable):
            async with db.connection() as conn:
                await conn.execute("SELECT * FROM no_such_table")
    finally:
        await db.close()
