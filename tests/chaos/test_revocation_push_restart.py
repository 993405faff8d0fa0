"""T20 with the pushed revocation list: a Redis of the test's own crashes and comes back
empty under a verifying service (board with probe routes) and the auth service, both
in-process.

Pass: every token is refused (fail closed, 401) while Redis is down and, once it is back,
for as long as the marker is missing (auth not running to write the list back); once auth
has reloaded, a token never revoked works again and the logged-out one is refused as
revoked - with no restart of the verifier.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.chaos.conftest import OwnRedis
from tests.core.realtime.waiting import eventually
from tests.core.test_errors import error_of
from tests.core.test_security import PROBE, revocations_of

pytestmark = pytest.mark.slow


async def status(client: Any, token: str) -> int:
    r = await client.get("/probe/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code in (200, 401), r.text  # refused cleanly, never a 500
    if r.status_code == 401:
        assert error_of("board", r.json())[0] == "UNAUTHORIZED"
    code: int = r.status_code
    return code


async def test_fail_closed_while_redis_is_down_and_until_auth_reloads(
    app_client: Callable[..., Any], own_redis: OwnRedis
) -> None:
    auth_settings = {"redis_url": own_redis.url, "test_auth_enabled": True}
    async with app_client("board", routes=PROBE, redis_url=own_redis.url) as board:
        revocations = revocations_of(board, "board")
        async with app_client("auth", **auth_settings) as auth:
            # auth writes the list to its empty Redis, and says "reloaded"
            await eventually(revocations.sync, timeout=30)
            logged_out = (await auth.post("/api/test/token", json={})).json()
            kept = (await auth.post("/api/test/token", json={})).json()
            r = await auth.post(
                "/api/auth/logout",
                headers={"Authorization": f"Bearer {logged_out['accessToken']}"},
            )
            assert r.status_code == 200, r.text
            assert await revocations.sync()
            assert await status(board, logged_out["accessToken"]) == 401
            assert await status(board, kept["accessToken"]) == 200

        connections = revocations.connections
        own_redis.crash()  # SIGKILL: every connection drops, everything in memory is gone
        await eventually(lambda: not revocations.trusted, timeout=30)
        for pair in (logged_out, kept):
            assert await status(board, pair["accessToken"]) == 401  # down: fail closed

        own_redis.start()  # back on the same port, empty
        await eventually(lambda: revocations.connections > connections, timeout=30)
        assert not await revocations.sync()  # resubscribed, but the marker is missing
        for pair in (logged_out, kept):
            assert await status(board, pair["accessToken"]) == 401  # not loaded: fail closed

        async with app_client("auth", **auth_settings):  # auth reloads from auth_db
            await eventually(revocations.sync, timeout=30)
            assert await status(board, kept["accessToken"]) == 200
            assert await status(board, logged_out["accessToken"]) == 401  # revoked, reloaded
