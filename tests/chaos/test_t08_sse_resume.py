"""T08 (reliability.md) in chaos form: one user's notification stream across two noti
processes, one of which is SIGKILLed mid-run and started again.

Producers create the notifications through the internal API, each with an ``eventId``,
spread over both processes; a create cut by the kill is sent again with the same
``eventId`` to the other one. The client drops its stream at random points and resumes
with ``Last-Event-ID``, each time on the *other* process (the live one while its peer is
down); when half the notifications are created, the process serving the stream is
SIGKILLed (no drain: the stream is cut, and creates in flight there may have committed
without being published) and restarted on its port a moment later.

Pass: the client receives every notification exactly once, in order (ids 1..N, no gap, no
duplicate, never a ``reset``), each event with an ``id:`` and the first response with a
``retry:``; what it received is exactly what noti stored for that user, one row per
``eventId``. Short form 200 notifications / 10 drops; full 2,000 / 100.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.chaos.conftest import Cluster, Node, size
from tests.noti.support import KEY, Person, event_body, open_stream, person, stored
from tests.plugins.harness import TokenIssuer

pytestmark = pytest.mark.slow

NOTI: dict[str, Any] = {"sse_ping_s": 2, "sse_replay_max": 100_000}
PRODUCERS = 4


@dataclass
class Run:
    """Shared state of the producers and the client: what was created, where the stream
    is, and when the kill happened."""

    nodes: list[Node]
    created: dict[str, str] = field(default_factory=dict)  # eventId -> notification id
    resent: int = 0  # creates sent again after a cut or a refused connection
    streaming_on: int = 0  # the node index the client's stream is on
    killed: int | None = None
    killed_at: float | None = None
    restart_s: float | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


async def produce(run: Run, cluster: Cluster, me: Person, total: int, workspace: str) -> None:
    todo = iter(range(total))

    async def restart(node: Node) -> None:
        await asyncio.sleep(0.5)  # a moment with one process only
        started = time.monotonic()
        await cluster.restart(node)
        run.restart_s = time.monotonic() - started

    async def worker(http: httpx.AsyncClient) -> None:
        for n in todo:
            event_id = str(uuid.uuid4())
            body = event_body(me.user_id, workspace, name=f"n{n}", eventId=event_id)
            attempt = 0
            while True:
                node = run.nodes[(n + attempt) % 2]
                attempt += 1
                if not node.alive:
                    await asyncio.sleep(0.02)
                    continue
                try:
                    r = await http.post(
                        f"{node.url}/api/internal/notifications", json=body, headers=KEY
                    )
                except httpx.TransportError:  # cut by the kill: the same eventId again
                    run.resent += 1
                    await asyncio.sleep(0.02)
                    continue
                assert r.status_code == 201, r.text
                run.created[event_id] = r.json()["id"]
                break
            if run.killed is None and len(run.created) >= total // 2:
                run.killed = run.streaming_on
                victim = run.nodes[run.killed]
                victim.proc.kill()  # SIGKILL of the process group: no drain, no close
                run.killed_at = time.monotonic()
                run.tasks.append(asyncio.create_task(restart(victim)))

    async with httpx.AsyncClient(timeout=15) as http:
        await asyncio.gather(*(worker(http) for _ in range(PRODUCERS)))


@dataclass
class Transcript:
    seqs: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    reconnects: int = 0
    broken: int = 0  # streams cut or connections refused (the kill), not ended by the client
    recovered_s: float | None = None  # from the kill to the next notification received


async def follow(run: Run, me: Person, total: int, drops: list[int]) -> Transcript:
    """The client: reads, drops at the given counts, resumes on the other process (and on
    the live one when that one refuses: a browser behind a gateway gets the same)."""
    seen = Transcript()
    last_id = "0"  # from the beginning of the user's stream
    index = 0
    clients = [httpx.AsyncClient(base_url=n.url, timeout=30) for n in run.nodes]
    try:
        while len(seen.seqs) < total:
            # Where the stream is (or goes next): the process the kill takes.
            run.streaming_on = index
            try:
                async with open_stream(clients[index], me.token, last_id=last_id) as (
                    response,
                    reader,
                ):
                    assert response.status_code == 200, await response.aread()
                    connected = await reader.next(timeout=30)
                    assert (connected.event, connected.id) == ("connected", last_id)
                    assert connected.retry == 3000
                    while len(seen.seqs) < total:
                        event = await reader.next(timeout=30)
                        assert event.event == "notification", event  # never a reset
                        assert event.id is not None  # every event carries an id
                        body = json.loads(event.data)
                        assert int(event.id) == body["seq"]
                        seen.seqs.append(int(event.id))
                        seen.ids.append(body["id"])
                        last_id = event.id
                        if run.killed_at is not None and seen.recovered_s is None:
                            seen.recovered_s = time.monotonic() - run.killed_at
                        if drops and len(seen.seqs) >= drops[0]:
                            drops.pop(0)
                            run.streaming_on = 1 - index  # before the close yields
                            break  # the client drops the stream here
            except (httpx.TransportError, StopAsyncIteration):
                seen.broken += 1  # cut by the kill, or refused while that process is down
                await asyncio.sleep(0.05)
            seen.reconnects += 1
            index = 1 - index  # the next connection goes to the other process
    finally:
        for client in clients:
            await client.aclose()
    return seen


async def test_t08_sse_resume_across_two_noti_processes_and_a_kill(
    cluster: Cluster, issuer: TokenIssuer, database: Any, report: Any
) -> None:
    total, drops_n = size(200, 2000), size(10, 100)
    run = Run([await cluster.start("noti", **NOTI), await cluster.start("noti", **NOTI)])
    me, workspace = person(issuer), str(uuid.uuid4())
    drops = sorted(random.Random(8).sample(range(1, total), drops_n))
    started = time.monotonic()
    producing = asyncio.create_task(produce(run, cluster, me, total, workspace))
    try:
        seen = await asyncio.wait_for(follow(run, me, total, list(drops)), size(120, 900))
        await producing
        await asyncio.gather(*run.tasks)
    finally:
        producing.cancel()
        for task in run.tasks:
            task.cancel()
        await asyncio.gather(producing, *run.tasks, return_exceptions=True)
    elapsed = time.monotonic() - started

    assert run.killed is not None
    assert seen.seqs == list(range(1, total + 1))  # exactly once, in order, no gap
    assert seen.broken >= 1  # the kill really cut the stream (or refused its successor)
    assert seen.reconnects >= drops_n
    async with database("noti") as db:
        rows = await stored(
            db,
            "SELECT id::text, event_id::text FROM notifications WHERE target_user_id::text = %s",
            me.user_id,
        )
    assert len(rows) == total  # a create sent twice made one notification
    assert sorted(seen.ids) == sorted(r[0] for r in rows)
    assert {r[1] for r in rows} == set(run.created)
    assert {run.created[r[1]] for r in rows} == {r[0] for r in rows}
    report(
        "T08",
        notifications=total,
        drops=drops_n,
        processes=2,
        reconnects=seen.reconnects,
        broken_by_kill=seen.broken,
        killed_after_created=total // 2,
        creates_resent=run.resent,
        recovered_within_s=round(seen.recovered_s or 0.0, 2),
        restart_s=round(run.restart_s or 0.0, 2),
        lost=0,
        duplicates=0,
        elapsed_s=round(elapsed, 1),
    )
