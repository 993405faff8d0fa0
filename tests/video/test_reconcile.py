"""The reconciliation sweep: calls in progress compared with LiveKit's participant lists
(for the webhooks that never arrived)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.livekit_server import FakeLiveKit, livekit_settings
from tests.user.support import World
from tests.video.support import Db, create_room, joined, room_row, seats
from wealist.core.context import ServiceContext
from wealist.video.actions.livekit_events import do_reconcile

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def video_no_grace(
    app_client: Callable[..., Any], users: httpx.AsyncClient, livekit_server: FakeLiveKit
) -> AsyncIterator[Client]:
    """The video app with no grace: everything in progress is compared at once."""
    settings = livekit_settings(
        livekit_server, user_service_url=str(users.base_url), reconcile_grace_s=0.0
    )
    async with app_client("video", **settings) as opened:
        yield opened


def reconcile(client: Client) -> int:
    """One sweep, run on the app's own event loop (the test client's portal)."""
    ctx: ServiceContext = client.app.state["contexts"]["video"]
    changed: int = client.blocking_portal.call(do_reconcile, ctx)
    return changed


async def test_participants_livekit_lost_leave_and_vanished_rooms_end(
    video_no_grace: Client, world: World, livekit_server: FakeLiveKit, db_video: Db
) -> None:
    video = video_no_grace
    live = await create_room(video, world.owner, world.a, name="live")
    gone = await create_room(video, world.owner, world.a, name="gone")
    for who in (world.member, world.admin):
        await joined(video, who, live["id"])
    await joined(video, world.member, gone["id"])
    livekit_server.connect(live["id"], world.admin.user_id)  # the member never connected
    livekit_server.rooms.pop(gone["id"])  # LiveKit closed it; room_finished was lost

    # Other tests' calls share this database (and are unknown to this fake): count ours.
    assert reconcile(video) >= 2
    assert await seats(db_video, live["id"]) == {
        world.member.user_id: (False, False),
        world.admin.user_id: (True, False),
    }
    assert await room_row(db_video, live["id"]) == (True, False)
    assert await room_row(db_video, gone["id"]) == (False, True)
    listed = livekit_server.methods("ListParticipants")
    assert {live["id"], gone["id"]} <= {c.request.room for c in listed}
    assert all(c.claims.video and c.claims.video.room == c.request.room for c in listed)
    assert livekit_server.violations == []
    reconcile(video)  # nothing left to repair: the next sweep changes none of it
    assert (await seats(db_video, live["id"]))[world.admin.user_id] == (True, False)
    assert await room_row(db_video, live["id"]) == (True, False)


async def test_a_fresh_seat_is_not_taken_for_a_lost_one(
    video: Client, world: World, livekit_server: FakeLiveKit, db_video: Db
) -> None:
    room = await create_room(video, world.owner, world.a)
    await joined(video, world.member, room["id"])  # has a token, not connected yet
    reconcile(video)  # the room is younger than the default grace: not compared yet
    assert await seats(db_video, room["id"]) == {world.member.user_id: (True, False)}
    assert room["id"] not in {c.request.room for c in livekit_server.methods("ListParticipants")}
