"""A board task assignment becomes exactly one notification on the assignee's open stream:
the board side is its outbox (``notification.requested`` enqueued in board_db in the
assignment's transaction) and the kernel's relay posting to noti. Delivered while the
stream is open, delivered again (a relay that crashed before marking it), and enqueued
while noti was down (delivered when it is back): one notification each time.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.noti.support import create, open_stream, person, stored
from tests.plugins.harness import INTERNAL_KEY
from wealist.contracts.events import NOTIFICATION_REQUESTED, NotificationRequested
from wealist.core.db import Database
from wealist.core.events import HttpDelivery
from wealist.core.internal import InternalClient
from wealist.core.outbox import OutboxRelay, enqueue
from wealist.core.settings import CoreSettings

pytestmark = pytest.mark.slow


@pytest.fixture
async def board_db(environment: Any) -> AsyncIterator[Database]:
    """The board service's database: where its outbox rows live."""
    db = Database("board_db", environment.databases["board"], min_size=1, max_size=4)
    await db.open(wait=True)
    try:
        yield db
    finally:
        await db.close()


def relay_to(db: Database, http: httpx.AsyncClient, noti_url: str) -> OutboxRelay:
    """The relay a board process runs, delivering to the noti process at ``noti_url``."""
    settings = CoreSettings(internal_api_key=INTERNAL_KEY, service_urls={"noti": noti_url})
    internal = InternalClient(http, INTERNAL_KEY, timeout=5)
    return OutboxRelay(db, HttpDelivery(internal, settings, "board"))


async def assign(db: Database, assignee: str, workspace: str, title: str) -> str:
    """What the board does when a task is assigned: the event commits with the change."""
    async with db.transaction() as tx:
        return await enqueue(
            tx,
            NOTIFICATION_REQUESTED,
            NotificationRequested(
                type="BOARD_ASSIGNED",
                actor_id=str(uuid.uuid4()),
                target_user_id=assignee,
                workspace_id=workspace,
                resource_type="board",
                resource_id=str(uuid.uuid4()),
                resource_name=title,
                metadata={"projectId": str(uuid.uuid4()), "projectName": "Launch"},
            ),
        )


async def deliver_until_done(relay: OutboxRelay, db: Database, event_id: str) -> None:
    """Run the relay (as its loop would) until the event is marked delivered."""
    for _ in range(200):
        await relay.run_once()
        async with db.connection() as conn:
            done = await conn.fetch_val(
                "SELECT delivered_at IS NOT NULL FROM outbox WHERE event_id = %s", (event_id,)
            )
        if done:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the relay never delivered the event")


async def test_an_assignment_is_one_notification_even_redelivered_or_while_noti_was_down(
    service_process, issuer, board_db, db_noti
) -> None:
    me, workspace = person(issuer), str(uuid.uuid4())
    first_noti = await service_process("noti", env={"WEALIST_NOTI_SSE_PING_S": "0.5"})
    async with httpx.AsyncClient(timeout=10) as http:
        client = httpx.AsyncClient(base_url=first_noti.url, timeout=10)
        relay = relay_to(board_db, http, first_noti.url)
        async with open_stream(client, me.token) as (_, reader):
            assert (await reader.next()).event == "connected"

            # 1. Assigned while the stream is open.
            event_id = await assign(board_db, me.user_id, workspace, "Ship it")
            await deliver_until_done(relay, board_db, event_id)
            first = await reader.next()
            assert (first.event, first.id) == ("notification", "1")
            assert json.loads(first.data)["resourceName"] == "Ship it"

            # 2. The relay crashed after delivering, before marking: it delivers again.
            async with board_db.connection() as conn:
                await conn.execute(
                    "UPDATE outbox SET delivered_at = NULL WHERE event_id = %s", (event_id,)
                )
            await deliver_until_done(relay, board_db, event_id)
            sentinel = await create(client, me.user_id, workspace, name="sentinel")
            after = await reader.next()
            assert (after.id, json.loads(after.data)["id"]) == ("2", sentinel["id"])
            last_seen = after.id
        await client.aclose()

        # 3. Noti is down when the assignment happens; the relay fails and retries.
        first_noti.stop()  # SIGTERM: Granian stops its worker too (SIGKILL would orphan it)
        event_id = await assign(board_db, me.user_id, workspace, "While you were out")
        assert await relay.run_once() == 0
        async with board_db.connection() as conn:
            attempts = await conn.fetch_val(
                "SELECT attempts FROM outbox WHERE event_id = %s", (event_id,)
            )
        assert attempts == 1

        second_noti = await service_process("noti", env={"WEALIST_NOTI_SSE_PING_S": "0.5"})
        relay = relay_to(board_db, http, second_noti.url)
        async with (
            httpx.AsyncClient(base_url=second_noti.url, timeout=10) as client,
            open_stream(client, me.token, last_id=last_seen) as (_, reader),
        ):
            assert (await reader.next()).id == last_seen  # the browser resumes where it was
            await deliver_until_done(relay, board_db, event_id)
            caught_up = await reader.next()
            assert (caught_up.event, caught_up.id) == ("notification", "3")
            assert json.loads(caught_up.data)["resourceName"] == "While you were out"
            await reader.until_ping()
            assert reader.pending == []  # nothing else arrived
    rows = await stored(
        db_noti,
        "SELECT resource_name FROM notifications WHERE target_user_id::text = %s ORDER BY seq",
        me.user_id,
    )
    assert rows == [("Ship it",), ("sentinel",), ("While you were out",)]


async def test_two_relays_and_redeliveries_still_make_one_notification_per_event(
    service_process, issuer, board_db, db_noti
) -> None:
    """T09's consumer half: relays racing over the same outbox (SKIP LOCKED) plus rows
    delivered twice; the noti side shows each event exactly once."""
    proc = await service_process("noti")
    me, workspace = person(issuer), str(uuid.uuid4())
    async with httpx.AsyncClient(timeout=10) as http:
        one, two = relay_to(board_db, http, proc.url), relay_to(board_db, http, proc.url)
        ids = [await assign(board_db, me.user_id, workspace, f"task {n}") for n in range(40)]
        await asyncio.gather(*(r.run_once() for r in (one, two, one, two)))
        async with board_db.connection() as conn:  # half of them "crashed before marking"
            await conn.execute(
                "UPDATE outbox SET delivered_at = NULL WHERE event_id = ANY(%s::uuid[])",
                (ids[::2],),
            )
        for event_id in ids:
            await deliver_until_done(one, board_db, event_id)
    rows = await stored(
        db_noti,
        "SELECT count(*), count(DISTINCT event_id), max(seq) FROM notifications"
        " WHERE target_user_id::text = %s",
        me.user_id,
    )
    assert rows == [(40, 40, 40)]
