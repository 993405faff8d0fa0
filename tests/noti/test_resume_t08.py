"""T08 (reliability.md): notifications for one user while the client drops its stream at
random points and reconnects with ``Last-Event-ID``; every notification arrives exactly
once, in order, each event with an ``id:``, the first response with ``retry:``.

The full scenario is 2,000 notifications and 100 drops; ``WEALIST_T08_NOTIFICATIONS`` /
``WEALIST_T08_DROPS`` scale it (CI runs the full size when the machine allows).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import uuid

import httpx
import pytest

from tests.noti.support import KEY, event_body, open_stream, person, stored

pytestmark = pytest.mark.slow

TOTAL = int(os.environ.get("WEALIST_T08_NOTIFICATIONS", "2000"))
DROPS = int(os.environ.get("WEALIST_T08_DROPS", "100"))
PRODUCERS = 8  # concurrent creates: their publishes race, so frames arrive out of order


async def produce(client: httpx.AsyncClient, target: str, workspace: str) -> None:
    todo = iter(range(TOTAL))

    async def worker() -> None:
        for n in todo:
            body = event_body(target, workspace, name=f"n{n}", eventId=str(uuid.uuid4()))
            response = await client.post("/api/internal/notifications", json=body, headers=KEY)
            assert response.status_code == 201, response.text

    await asyncio.gather(*[worker() for _ in range(PRODUCERS)])


async def test_t08_resume_with_last_event_id_is_exactly_once_in_order(
    service_process, issuer, db_noti
) -> None:
    proc = await service_process(
        "noti", env={"WEALIST_NOTI_SSE_PING_S": "5", "WEALIST_NOTI_SSE_REPLAY_MAX": "100000"}
    )
    me, workspace = person(issuer), str(uuid.uuid4())
    rng = random.Random(8)
    drop_after = sorted(rng.sample(range(1, TOTAL), DROPS))  # drop once this many arrived
    received: list[int] = []
    ids: list[str] = []
    reconnects = 0
    async with (
        httpx.AsyncClient(base_url=proc.url, timeout=30) as producer_client,
        httpx.AsyncClient(base_url=proc.url, timeout=30) as stream_client,
    ):
        producing = asyncio.create_task(produce(producer_client, me.user_id, workspace))
        last_id = "0"  # the client starts from the beginning of the user's stream
        while len(received) < TOTAL:
            async with open_stream(stream_client, me.token, last_id=last_id) as (response, reader):
                assert response.status_code == 200
                connected = await reader.next(timeout=30)
                assert connected.event == "connected"
                assert connected.id == last_id
                assert connected.retry == 3000
                while len(received) < TOTAL:
                    event = await reader.next(timeout=30)
                    assert event.id is not None  # every event carries an id
                    assert event.event == "notification", event
                    received.append(int(event.id))
                    ids.append(json.loads(event.data)["id"])
                    assert int(event.id) == json.loads(event.data)["seq"]
                    last_id = event.id
                    if drop_after and len(received) >= drop_after[0]:
                        drop_after.pop(0)
                        break  # the client drops the stream here
            reconnects += 1
        await producing
    assert received == list(range(1, TOTAL + 1))  # exactly once, in order, no gap
    assert reconnects >= DROPS
    committed = await stored(
        db_noti, "SELECT id::text FROM notifications WHERE target_user_id::text = %s", me.user_id
    )
    assert sorted(ids) == sorted(row[0] for row in committed)
