"""The per-account delay ladder of ``LoginThrottle``, on real Redis with a clock the test
moves: the delays follow the clock, never how fast the machine runs."""

from __future__ import annotations

import uuid

from redis.asyncio import Redis

from wealist.auth.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def throttle(redis: Redis, clock: Clock, *, free: int = 5, cap: int = 900) -> LoginThrottle:
    return LoginThrottle(
        redis,
        ip_limit_per_min=10,
        signup_limit_per_min=10,
        free_failures=free,
        max_delay_s=cap,
        clock=clock,
    )


def account() -> str:
    return f"ladder-{uuid.uuid4().hex}@example.com"


async def test_free_failures_then_doubling_delays(redis: Redis) -> None:
    clock = Clock()
    login = throttle(redis, clock)
    email = account()
    for _ in range(5):
        assert await login.account_wait(email) == 0
        await login.failed(email)
    assert await login.account_wait(email) == 0  # five free failures: no delay yet
    waits = []
    for _ in range(6):
        await login.failed(email)
        waits.append(await login.account_wait(email))
        clock.now += waits[-1]  # the attacker waits out each delay exactly
        assert await login.account_wait(email) == 0
    assert waits == [1, 2, 4, 8, 16, 32]


async def test_the_delay_is_capped_and_the_owner_gets_back_in(redis: Redis) -> None:
    clock = Clock()
    login = throttle(redis, clock, free=0, cap=60)
    email = account()
    for _ in range(30):
        await login.failed(email)
    assert await login.account_wait(email) == 60  # never more than the cap
    clock.now += 59.5
    assert await login.account_wait(email) == 1  # rounded up: never "0" too early
    clock.now += 0.5
    assert await login.account_wait(email) == 0
    await login.succeeded(email)  # the right password clears the ladder
    await login.failed(email)
    assert await login.account_wait(email) == 1


async def test_the_ladder_is_per_account_and_blind_to_case(redis: Redis) -> None:
    clock = Clock()
    login = throttle(redis, clock, free=0)
    email = account()
    await login.failed(email.upper())
    assert await login.account_wait(f"  {email} ") == 1
    assert await login.account_wait(account()) == 0


async def test_the_ip_budget_counts_per_address(redis: Redis) -> None:
    login = throttle(redis, Clock())
    ip = f"203.0.113.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:6]}"
    assert [await login.login_ip(ip) for _ in range(10)] == [0] * 10
    over = await login.login_ip(ip)
    assert 0 < over <= 60  # seconds until the window ends
    assert await login.login_ip(ip + "-other") == 0
