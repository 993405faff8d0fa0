"""``maxParticipants`` holds under concurrent joins: the room row lock seats them in turn.

The joins go to a real ``wealist serve video`` process, so they really run at once. To
make the race certain rather than likely, the test holds a lock that lets every join
read the room's count but stops it before it inserts its seat, and releases it only when
every pooled connection is waiting. Without the room lock, each of them would have read
"room not full" and all would be seated.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import psycopg

from tests.plugins.harness import Environment, TokenIssuer
from tests.user.support import World, invite, sign_up
from tests.video.support import Db, create_room, join, seats

SEATS = 3
JOINERS = 12
POOL = 5  # WEALIST_VIDEO_DB_POOL_MAX of the process: joins in a transaction at once


async def wait_for_waiters(db: Db, count: int) -> None:
    """Until ``count`` sessions of this database wait on a lock (fails after 60 s)."""
    for _ in range(1200):
        cur = await db.execute(
            "SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
            " WHERE NOT l.granted AND a.datname = current_database()"
        )
        found = await cur.fetchone()
        if found is not None and found[0] >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} joins ever waited")


async def test_concurrent_joins_never_exceed_max_participants(
    video_process: httpx.AsyncClient,
    world: World,
    users: httpx.AsyncClient,
    issuer: TokenIssuer,
    db_video: Db,
    environment: Environment,
) -> None:
    people = [await sign_up(users, issuer, f"racer{n}") for n in range(JOINERS)]
    for who in people:
        assert (await invite(users, world.owner, world.a, who)).status_code == 201
    room = await create_room(video_process, world.owner, world.a, maxParticipants=SEATS)

    blocker: psycopg.AsyncConnection[Any] = await psycopg.AsyncConnection.connect(
        environment.databases["video"]
    )
    async with blocker:
        # Reads (the count) pass this lock; inserting a seat waits for it.
        await blocker.execute("LOCK TABLE room_participants IN SHARE ROW EXCLUSIVE MODE")
        racing = asyncio.gather(*(join(video_process, who, room["id"]) for who in people))
        await wait_for_waiters(db_video, POOL)
        await blocker.commit()
        responses = await racing

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * SEATS + [409] * (JOINERS - SEATS), [r.text for r in responses]
    assert all(r.json()["error"]["code"] == "ROOM_FULL" for r in responses if r.status_code == 409)
    seated = {who.user_id for who, r in zip(people, responses, strict=True) if r.status_code == 200}
    stored = await seats(db_video, room["id"])
    assert {user for user, (active, _) in stored.items() if active} == seated
    assert len(stored) == SEATS  # nobody refused holds a row
    ok = [r.json()["data"] for r in responses if r.status_code == 200]
    counts = [reply["room"]["participantCount"] for reply in ok]
    assert sorted(counts) == list(range(1, SEATS + 1))
