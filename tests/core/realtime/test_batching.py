"""RedisBatch against a real Redis: many callers, one round trip, a bounded number of
connections, each caller its own answer or error."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from tests.plugins.faultproxy import FaultProxy
from wealist.core.realtime.batching import RedisBatch


def key() -> str:
    return f"test:batch:{uuid.uuid4().hex[:10]}"


async def commands(redis: Redis) -> dict[str, int]:
    stats = await redis.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


@pytest.fixture
async def small(redis_url: str) -> AsyncIterator[Redis]:
    """A client whose pool holds two connections and refuses a third at once
    (redis-py's ``MaxConnectionsError``), as a service's pool does past its size."""
    client = Redis.from_url(redis_url, max_connections=2)
    try:
        yield client
    finally:
        await client.aclose()


async def test_concurrent_callers_share_one_round_trip(small: Redis, redis: Redis) -> None:
    batch = RedisBatch(small, in_flight=1)
    name = key()
    await redis.set(name, "v")
    before = await commands(redis)
    answers = await asyncio.gather(*(batch.call(lambda p: p.get(name)) for _ in range(500)))
    after = await commands(redis)
    assert answers == [b"v"] * 500
    assert (batch.round_trips, batch.commands) == (1, 500)
    assert after["get"] - before.get("get", 0) == 500  # one GET each, nothing else of ours
    await redis.delete(name)


async def test_more_callers_than_connections_wait_instead_of_failing(
    small: Redis, redis: Redis
) -> None:
    """Waves of callers while earlier pipelines are in flight: never more pipelines out
    than ``in_flight`` (the pool of 2 would refuse a third), every caller answered."""
    batch = RedisBatch(small, in_flight=2)
    name = key()

    async def caller(n: int) -> int:
        await asyncio.sleep(0.001 * (n % 20))  # arrivals spread over several loop turns
        return int(await batch.call(lambda p: p.incr(name)))

    got = await asyncio.gather(*(caller(n) for n in range(2_000)))
    assert sorted(got) == list(range(1, 2_001))
    assert 1 < batch.round_trips < 2_000
    assert int(await redis.get(name) or 0) == 2_000
    await redis.delete(name)


async def test_a_failing_command_fails_only_its_caller(small: Redis, redis: Redis) -> None:
    batch = RedisBatch(small)
    text, counter = key(), key()
    await redis.set(text, "not a number")
    results = await asyncio.gather(
        batch.call(lambda p: p.incr(counter)),
        batch.call(lambda p: p.incr(text)),
        batch.call(lambda p: p.incr(counter)),
        return_exceptions=True,
    )
    assert results[0] == 1 and results[2] == 2
    assert isinstance(results[1], ResponseError)
    assert batch.round_trips == 1
    await redis.delete(text, counter)


async def test_a_caller_with_many_commands_gets_each_answer_in_order_errors_as_values(
    small: Redis, redis: Redis
) -> None:
    """call_many: one caller's commands in order, beside other callers, in one round trip;
    a refused command is an answer among the others, not a raise."""
    batch = RedisBatch(small, in_flight=1)
    text, counter = key(), key()
    await redis.set(text, "not a number")
    many, alone, empty = await asyncio.gather(
        batch.call_many(
            [lambda p: p.incr(counter), lambda p: p.incr(text), lambda p: p.incr(counter)]
        ),
        batch.call(lambda p: p.incr(counter)),
        batch.call_many([]),
    )
    assert (many[0], many[2]) == (1, 2)  # in the order given, before the next caller's
    assert isinstance(many[1], ResponseError)
    assert alone == 3
    assert empty == []
    assert (batch.round_trips, batch.commands) == (1, 4)
    await redis.delete(text, counter)


async def test_scripts_are_loaded_again_when_redis_lost_them(small: Redis, redis: Redis) -> None:
    batch = RedisBatch(small)
    echo = small.register_script("return ARGV[1] .. KEYS[1]")
    assert await batch.script(echo, ["k"], ["a"]) == b"ak"
    await redis.script_flush()  # as after a restart without persistence
    answers = await asyncio.gather(*(batch.script(echo, ["k"], [str(n)]) for n in range(10)))
    assert answers == [f"{n}k".encode() for n in range(10)]


async def test_a_lost_link_fails_the_callers_of_that_pipeline_and_the_next_one_works(
    fault_proxy: Callable[[str], FaultProxy], redis_url: str
) -> None:
    proxy = fault_proxy(redis_url)
    client = Redis.from_url(proxy.proxied(redis_url), socket_timeout=1.0)
    try:
        batch = RedisBatch(client)
        name = key()
        assert await batch.call(lambda p: p.incr(name)) == 1
        proxy.down()
        failed = await asyncio.gather(
            *(batch.call(lambda p: p.incr(name)) for _ in range(5)), return_exceptions=True
        )
        assert all(isinstance(f, (RedisConnectionError, OSError)) for f in failed), failed
        down_many = await asyncio.gather(
            batch.call_many([lambda p: p.incr(name), lambda p: p.incr(name)]),
            return_exceptions=True,
        )
        assert isinstance(down_many[0], (RedisConnectionError, OSError)), down_many
        proxy.heal()
        assert await batch.call(lambda p: p.incr(name)) == 2
        await batch.call(lambda p: p.delete(name))
    finally:
        await client.aclose()
