"""Outbox events from the user service: a removed member is taken out of the workspace's
calls (and LiveKit); a deleted workspace's calls end. Each event applies once."""

from __future__ import annotations

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.events import deliver, envelope
from tests.plugins.harness import INTERNAL_KEY
from tests.plugins.livekit_server import FakeLiveKit
from tests.user.support import World, member_id_of
from tests.video.support import (
    Db,
    assert_error,
    create_room,
    join,
    joined,
    room_row,
    seats,
)

Client = AsyncTestClient[Litestar]
EVENTS = "/api/internal/events/video"  # the kernel's route (core.events)
KEY = {"x-internal-api-key": INTERNAL_KEY}


async def test_a_removed_member_leaves_every_call_of_the_workspace(
    video: Client,
    world: World,
    users: httpx.AsyncClient,
    livekit_server: FakeLiveKit,
    db_video: Db,
) -> None:
    rooms = [await create_room(video, world.owner, world.a, name=f"call {n}") for n in range(2)]
    for room in rooms:
        await joined(video, world.member, room["id"])
        await joined(video, world.admin, room["id"])
        livekit_server.connect(room["id"], world.member.user_id)
    member_id = await member_id_of(users, world.owner, world.a, world.member)
    removed = await users.delete(
        f"/api/workspaces/{world.a}/members/{member_id}", headers=world.owner.headers
    )
    assert removed.status_code == 200, removed.text

    event = envelope(
        "workspace.member_removed",
        {"workspaceId": world.a, "userId": world.member.user_id, "removedBy": world.owner.user_id},
    )
    assert await deliver(video, "video", event) is True
    assert await deliver(video, "video", event) is False  # the relay delivers at least once
    for room in rooms:
        assert (await seats(db_video, room["id"]))[world.member.user_id] == (False, True)
        assert livekit_server.connected(room["id"]) == set()
    assert len(livekit_server.methods("RemoveParticipant")) == 2
    assert_error(await join(video, world.member, rooms[0]["id"]), 403, "FORBIDDEN")
    assert livekit_server.violations == []


async def test_a_deleted_workspace_ends_its_calls(
    video: Client, world: World, livekit_server: FakeLiveKit, db_video: Db
) -> None:
    room = await create_room(video, world.owner, world.a)
    await joined(video, world.member, room["id"])
    event = envelope(
        "workspace.deleted",
        {"workspaceId": world.a, "deletedBy": world.owner.user_id, "memberIds": []},
    )
    assert await deliver(video, "video", event) is True
    assert await room_row(db_video, room["id"]) == (False, True)
    assert [c.request.room for c in livekit_server.methods("DeleteRoom")] == [room["id"]]


async def test_livekit_down_leaves_the_event_for_a_retry(
    video: Client, world: World, livekit_server: FakeLiveKit, db_video: Db
) -> None:
    room = await create_room(video, world.owner, world.a)
    await joined(video, world.member, room["id"])
    event = envelope(
        "workspace.deleted",
        {"workspaceId": world.a, "deletedBy": world.owner.user_id, "memberIds": []},
    )
    livekit_server.down = True
    response = await video.post(EVENTS, json=event, headers=KEY)
    assert_error(response, 503, "LIVEKIT_UNAVAILABLE")
    assert await room_row(db_video, room["id"]) == (True, False)
    livekit_server.down = False
    assert await deliver(video, "video", event) is True  # not claimed by the failed delivery
    assert await room_row(db_video, room["id"]) == (False, True)


async def test_the_endpoint_needs_the_internal_key(video: Client, world: World) -> None:
    event = envelope(
        "workspace.deleted", {"workspaceId": world.a, "deletedBy": "x", "memberIds": []}
    )
    assert_error(await video.post(EVENTS, json=event), 401, "UNAUTHORIZED")
    assert_error(
        await video.post(EVENTS, json=event, headers=world.owner.headers), 401, "UNAUTHORIZED"
    )
    unknown = envelope("board.moved", {})
    assert await deliver(video, "video", unknown) is False
    bad = {**envelope("workspace.deleted", {}), "id": "not-a-uuid"}
    assert_error(await video.post(EVENTS, json=bad, headers=KEY), 400, "VALIDATION_ERROR")
    broken = envelope("workspace.member_removed", {"workspaceId": world.a})
    assert_error(await video.post(EVENTS, json=broken, headers=KEY), 400, "VALIDATION_ERROR")
