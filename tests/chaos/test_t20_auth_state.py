"""T20 (reliability.md): Redis loses the auth state; nothing revoked may work again.

A real auth process and a verifying service process (the kernel's verifier behind probe
routes) share a Redis of the scenario's own. Access tokens are logged out, refresh
families rotated; then Redis is flushed, crashed and restarted empty, and the verifier's
link to Redis is reset again and again (a failover). Meanwhile auth's own link is stalled,
so it cannot write the list back yet and the window in which everything must be refused
stays open long enough to be seen.

Pass: none of the logged-out access tokens is accepted at any point after its logout was
pushed (the verifier holds the list in-process; a logout reaches it within the push
latency, which the test waits out for the last one before its first audit); once Redis
lost the list, every token is refused until auth has reloaded it (fail closed: the
verifier's periodic check finds the marker gone, and a reconnection finds it missing);
after the reload the logged-out tokens are refused as revoked, no rotated refresh token
refreshes, and a token that was never revoked works again - users are at worst asked to
log in, never let back in.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from tests.chaos.conftest import Cluster, Node, OwnRedis, size
from tests.core.realtime.waiting import eventually
from wealist.contracts.keys import REVOCATIONS_LOADED

pytestmark = pytest.mark.slow

PROBE = "tests.core.probe:ROUTES"


async def accepted(http: httpx.AsyncClient, node: Node, token: str) -> bool:
    r = await http.get(f"{node.url}/probe/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code in (200, 401), r.text  # refused cleanly, never a 500
    return r.status_code == 200


async def refused(http: httpx.AsyncClient, node: Node, token: str) -> bool:
    return not await accepted(http, node, token)


async def test_t20_revoked_tokens_stay_dead_when_redis_loses_everything(
    cluster: Cluster, own_redis: OwnRedis, report: Any
) -> None:
    n = size(10, 100)
    auth = await cluster.start(
        "auth", redis_url=own_redis.url, env={"WEALIST_AUTH_TEST_AUTH_ENABLED": "true"}
    )
    verifier = await cluster.start("board", redis_url=own_redis.url, routes=PROBE)
    checks = {"logged_out_accepted": 0, "rotated_refreshed": 0, "checks": 0}
    async with httpx.AsyncClient(timeout=30) as http:

        async def pair() -> dict[str, str]:
            r = await http.post(f"{auth.url}/api/test/token", json={})
            assert r.status_code == 200, r.text
            found: dict[str, str] = r.json()
            return found

        logged_out = [await pair() for _ in range(n)]
        for p in logged_out:
            assert await accepted(http, verifier, p["accessToken"])
            r = await http.post(
                f"{auth.url}/api/auth/logout",
                headers={"Authorization": f"Bearer {p['accessToken']}"},
            )
            assert r.status_code == 200, r.text
        rotated: list[str] = []
        for _ in range(n):
            first = await pair()
            r = await http.post(
                f"{auth.url}/api/auth/refresh", json={"refreshToken": first["refreshToken"]}
            )
            assert r.status_code == 200, r.text
            rotated.append(first["refreshToken"])
        kept = await pair()  # never revoked: must work again after the recovery

        async def audit() -> None:
            for p in logged_out:
                checks["checks"] += 1
                if await accepted(http, verifier, p["accessToken"]):
                    checks["logged_out_accepted"] += 1

        # A logout reaches the other service by push: wait for the last one (pushes are
        # applied in order, so every earlier one is in too), then audit all of them.
        last = logged_out[-1]["accessToken"]
        await eventually(lambda: refused(http, verifier, last), timeout=10)
        await audit()
        auth.redis.stall()  # auth cannot write the list back until healed
        # 1. FLUSHALL: the revocation list and its "loaded" marker are gone.
        async with Redis.from_url(own_redis.url) as redis:
            await redis.flushall()
        await audit()  # refused: revoked in the verifier's copy, or not loaded
        # the verifier's periodic check finds the marker gone: every token refused
        await eventually(lambda: refused(http, verifier, kept["accessToken"]), timeout=10)
        await audit()
        # 2. A crash and an empty restart (no persistence) on the same port.
        own_redis.restart()
        await audit()
        assert not await accepted(http, verifier, kept["accessToken"])  # still not loaded
        # 3. The verifier's link reset again and again while it is being asked.
        for _ in range(size(5, 20)):
            verifier.redis.reset()
            await audit()
        assert not await accepted(http, verifier, kept["accessToken"])
        # Auth notices the missing marker and writes every live revocation back.
        auth.redis.heal()

        async def reloaded() -> bool:
            async with Redis.from_url(own_redis.url) as redis:
                return bool(await redis.exists(REVOCATIONS_LOADED))

        await eventually(reloaded, timeout=30, every=0.2)
        await eventually(lambda: accepted(http, verifier, kept["accessToken"]), timeout=30)
        await audit()  # now refused as revoked, from the reloaded list
        for token in rotated:
            r = await http.post(f"{auth.url}/api/auth/refresh", json={"refreshToken": token})
            assert r.status_code == 401, r.text
            if r.status_code == 200:
                checks["rotated_refreshed"] += 1
        # A reset of auth's own Redis link changes nothing either.
        auth.redis.reset()
        await asyncio.sleep(0)
        await audit()

    assert checks["logged_out_accepted"] == 0
    report(
        "T20",
        logged_out_tokens=n,
        rotated_families=n,
        acceptance_checks=checks["checks"],
        logged_out_accepted=0,
        rotated_refresh_accepted=0,
        kept_token_works_after_reload=True,
    )
