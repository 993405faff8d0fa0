"""Concurrent ``POST /api/internal/oauth/login`` calls, against a real ``wealist serve user``
process: the in-process test client runs one request at a time, so it cannot race."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import psycopg
import pytest

from tests.plugins.harness import Environment
from tests.user.support import KEY, LOGIN, Db, new_email, users_with_email

pytestmark = pytest.mark.slow
POOL = 10  # the service's connection pool: how many statements can wait at once


@pytest.fixture
async def http(service_process: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    proc = await service_process("user", env={"WEALIST_USER_DB_POOL_MAX": str(POOL)})
    async with httpx.AsyncClient(base_url=proc.url, headers=KEY, timeout=30) as client:
        yield client


async def test_concurrent_first_logins_create_one_user(http: httpx.AsyncClient, db: Db) -> None:
    email = new_email("race")
    variants = [email, email.upper(), f" {email} "]
    responses = await asyncio.gather(
        *(
            http.post(LOGIN, json={"email": variants[i % 3], "name": "", "provider": "google"})
            for i in range(20)
        )
    )
    assert [r.status_code for r in responses] == [200] * 20
    ids = {r.json()["userId"] for r in responses}
    assert len(ids) == 1
    assert [str(row[0]) for row in await users_with_email(db, email)] == list(ids)


async def test_concurrent_create_only_sign_ups_let_exactly_one_win(
    http: httpx.AsyncClient, db: Db
) -> None:
    email = new_email("race")
    body = {"email": email, "name": "", "provider": "local", "createOnly": True}
    responses = await asyncio.gather(*(http.post(LOGIN, json=body) for _ in range(20)))
    assert sorted(r.status_code for r in responses) == [200] + [409] * 19
    winner = next(r for r in responses if r.status_code == 200).json()["userId"]
    assert [str(row[0]) for row in await users_with_email(db, email)] == [winner]


async def test_logins_waiting_on_an_uncommitted_insert_get_that_row(
    http: httpx.AsyncClient, environment: Environment, db: Db
) -> None:
    """The race made deterministic: every call's statement starts while another insert of
    the same email is uncommitted, and must answer with that row once it commits (an
    ``ON CONFLICT DO NOTHING`` followed by a ``SELECT`` would find nothing)."""
    email = new_email("race")
    calls = 8
    async with await psycopg.AsyncConnection.connect(environment.databases["user"]) as other:
        cur = await other.execute(
            "INSERT INTO users (email, provider) VALUES (%s, 'local') RETURNING id", (email,)
        )
        inserted = await cur.fetchone()
        assert inserted is not None
        body = {"email": email.upper(), "name": "Won", "provider": "google"}
        pending = asyncio.gather(*(http.post(LOGIN, json=body) for _ in range(calls)))
        try:
            await wait_for_blocked_statements(db, calls)
        finally:
            await other.commit()
        responses = await pending
    assert [r.status_code for r in responses] == [200] * calls
    assert {r.json()["userId"] for r in responses} == {str(inserted[0])}
    # the first call through filled in the empty name; nothing else changed
    assert await users_with_email(db, email) == [(inserted[0], email, "Won", "local", True, None)]


async def wait_for_blocked_statements(db: Db, count: int) -> None:
    """Until ``count`` backends of this database wait on a lock (at most 10 s)."""
    assert count <= POOL
    for _ in range(200):
        cur = await db.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        row = await cur.fetchone()
        if row is not None and row[0] >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} statements never blocked on the uncommitted insert")
