"""The fault proxy itself, in front of the real Redis and PostgreSQL: each fault does what
the scenarios rely on, and ``heal()`` gives a working link back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import psycopg
import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.plugins.faultproxy import FaultProxy, repoint

Proxy = Callable[[str], FaultProxy]


def test_repoint_keeps_credentials_path_and_query() -> None:
    url = "postgresql://app:pw@127.0.0.1:5432/board_db?sslmode=disable"
    assert repoint(url, 6000) == "postgresql://app:pw@127.0.0.1:6000/board_db?sslmode=disable"
    assert repoint("redis://localhost:6379/0", 7) == "redis://127.0.0.1:7/0"


def plain(url: str) -> Redis:
    """No retries: the test sees each fault as it happens."""
    return Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)


async def test_bytes_pass_and_are_counted(fault_proxy: Proxy, redis_url: str) -> None:
    proxy = fault_proxy(redis_url)
    client = plain(proxy.proxied(redis_url))
    try:
        await client.set("chaos:proxy:k", "v")
        assert await client.get("chaos:proxy:k") == b"v"
        assert proxy.stats.accepted == 1
        assert proxy.live == 1
        assert proxy.stats.bytes_up > 0
        assert proxy.stats.bytes_down > 0
    finally:
        await client.aclose()


async def test_delay_holds_each_round_trip_at_least_twice_the_delay(
    fault_proxy: Proxy, redis_url: str
) -> None:
    proxy = fault_proxy(redis_url)
    client = plain(proxy.proxied(redis_url))
    try:
        await client.ping()
        proxy.delay(0.2)
        started = time.monotonic()
        await client.ping()
        assert time.monotonic() - started >= 0.4  # a lower bound: once up, once down
    finally:
        await client.aclose()


async def test_stall_holds_bytes_until_heal_then_delivers_them(
    fault_proxy: Proxy, redis_url: str
) -> None:
    proxy = fault_proxy(redis_url)
    client = plain(proxy.proxied(redis_url))
    try:
        await client.ping()
        proxy.stall()
        pending = asyncio.create_task(client.ping())
        done, _ = await asyncio.wait({pending}, timeout=0.5)
        assert not done  # no answer while stalled
        proxy.heal()
        assert await asyncio.wait_for(pending, 10) is True  # the held command went through
    finally:
        await client.aclose()


async def test_reset_cuts_live_connections_and_new_ones_work(
    fault_proxy: Proxy, redis_url: str
) -> None:
    proxy = fault_proxy(redis_url)
    client = plain(proxy.proxied(redis_url))
    try:
        await client.ping()
        assert proxy.reset() == 1
        with pytest.raises(RedisConnectionError):
            await client.ping()
        assert await client.ping() is True  # redis-py reconnects: the proxy still listens
        assert proxy.stats.resets == 1
    finally:
        await client.aclose()


async def test_down_refuses_new_connections_until_heal(fault_proxy: Proxy, pg_url: str) -> None:
    proxy = fault_proxy(pg_url)
    url = proxy.proxied(pg_url)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("SELECT 1")
        proxy.down()
        with pytest.raises(psycopg.OperationalError):
            await conn.execute("SELECT 1")
    with pytest.raises(psycopg.OperationalError, match="refused"):
        await psycopg.AsyncConnection.connect(url, connect_timeout=2)
    proxy.heal()
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        row = await (await conn.execute("SELECT 41 + 1")).fetchone()
        assert row == (42,)


async def test_an_upstream_that_is_gone_closes_the_client_connection(
    fault_proxy: Proxy,
) -> None:
    from wealist.devstack.servers import free_port

    proxy = fault_proxy(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    client = plain(f"redis://127.0.0.1:{proxy.port}/0")
    try:
        with pytest.raises(RedisConnectionError):
            await client.ping()
        assert proxy.stats.refused >= 1
    finally:
        await client.aclose()
