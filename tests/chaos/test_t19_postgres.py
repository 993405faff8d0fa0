"""T19 (reliability.md): PostgreSQL goes away under load, then comes back.

A board process's PostgreSQL link is cut (the proxy resets every connection and refuses
new ones: what a stopped server looks like) while clients keep reading a project.

Pass: during the outage every request fails with 503 in the service's envelope (never a
500, never a request left hanging), readiness says not-ready while liveness stays up;
after the heal every request succeeds again and the pool holds no more connections than
its maximum. The latency figures (how fast requests fail, how soon they succeed again)
are measured and reported, not asserted.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import httpx
import pytest

from tests.chaos.conftest import Cluster, size
from tests.chaos.test_t05_t06_resume import new_project
from tests.core.realtime.waiting import eventually
from tests.user.support import World

pytestmark = pytest.mark.slow

POOL_MAX = 5


async def test_t19_postgres_outage_fails_fast_and_recovers(
    cluster: Cluster, world: World, database: Any, report: Any
) -> None:
    # The outage outlasts the pool's wait for a connection (the full form keeps the
    # default, 4 s; the short one waits 2 s so the run stays short).
    outage_s, clients, pool_wait_s = size(5, 20), size(8, 30), size(2, 4)
    node = await cluster.start(
        "board", db_pool_min=2, db_pool_max=POOL_MAX, db_pool_timeout_s=pool_wait_s
    )
    log: list[tuple[float, str, int, float]] = []  # (start, phase, status, seconds)
    phase = ["before"]
    health: list[tuple[str, str, int]] = []  # (phase, route, status)
    stop = asyncio.Event()
    async with httpx.AsyncClient(timeout=30) as http:
        project = await new_project(http, node, world)
        url = f"{node.url}/api/projects/{project}"

        async def reader() -> None:
            while not stop.is_set():
                started = time.monotonic()
                tag = phase[0]
                r = await http.get(url, headers=world.owner.headers)  # a hang fails the test
                log.append((started, tag, r.status_code, time.monotonic() - started))
                if r.status_code not in (200, 503):
                    raise AssertionError(f"{r.status_code} {r.text}")
                if r.status_code == 503:
                    assert r.json()["error"]["code"], r.text  # the board's error envelope
                    await asyncio.sleep(0.05)

        async def prober() -> None:
            while not stop.is_set():
                for route in ("/health/ready", "/health/live"):
                    r = await http.get(f"{node.url}{route}")
                    health.append((phase[0], route, r.status_code))
                await asyncio.sleep(0.2)

        workers = [asyncio.create_task(reader()) for _ in range(clients)]
        workers.append(asyncio.create_task(prober()))
        try:
            await asyncio.sleep(1)
            node.pg.down()
            cut_at = time.monotonic()
            phase[0] = "outage"
            await asyncio.sleep(outage_s)
            node.pg.heal()
            healed_at = time.monotonic()
            phase[0] = "after"

            def recovered() -> bool:
                recent = [s for t, p, s, _ in log if p == "after" and t > time.monotonic() - 1]
                return len(recent) >= clients and all(s == 200 for s in recent)

            await eventually(recovered, timeout=30, every=0.1)
            stop.set()
            await asyncio.gather(*workers)
        finally:
            stop.set()
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    # Requests that began and ended while the database was gone: all refused with 503.
    outage = [(s, d) for t, p, s, d in log if p == "outage" and t > cut_at and t + d < healed_at]
    failed = [d for s, d in outage if s == 503]
    assert failed, "no request met the outage"
    assert {s for s, _ in outage} == {503}
    assert [s for t, p, s, _ in log if p == "before"].count(200) > 0
    first_ok = min(t + d for t, p, s, d in log if p == "after" and s == 200)
    ready = {s for p, r, s in health if p == "outage" and r == "/health/ready"}
    live = {s for _, r, s in health if r == "/health/live"}
    assert 503 in ready
    assert live == {200}  # liveness never asks for a restart
    async with database("board") as db:
        cur = await db.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
        row = await cur.fetchone()
    assert row[0] <= POOL_MAX  # no connection leaked across the outage
    report(
        "T19",
        outage_s=outage_s,
        clients=clients,
        requests_during_outage=len(outage),
        fail_fast_p50_s=round(statistics.median(failed), 3),
        fail_fast_max_s=round(max(failed), 3),
        first_success_after_heal_s=round(first_ok - healed_at, 3),
        readiness_during_outage=sorted(ready),
        liveness=sorted(live),
        server_connections_after=row[0],
    )
