"""Leaving, ending a call for everyone, and removing someone from it."""

from __future__ import annotations

import uuid

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.livekit_server import FakeLiveKit
from tests.user.support import World
from tests.video.support import Db, assert_error, create_room, join, joined, room_row, seats

Client = AsyncTestClient[Litestar]


def path(room_id: str, action: str) -> str:
    return f"/api/video/rooms/{room_id}/{action}"


async def test_the_creator_leaving_does_not_end_the_call(
    video: Client, world: World, livekit_server: FakeLiveKit, db_video: Db
) -> None:
    room = await create_room(video, world.owner, world.a)
    await joined(video, world.owner, room["id"])
    await joined(video, world.member, room["id"])
    livekit_server.connect(room["id"], world.owner.user_id)

    response = await video.post(path(room["id"], "leave"), headers=world.owner.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "message": "Left room successfully"}
    assert await room_row(db_video, room["id"]) == (True, False)
    assert await seats(db_video, room["id"]) == {
        world.owner.user_id: (False, False),
        world.member.user_id: (True, False),
    }
    # The creator's connection is closed in LiveKit too, with a grant for this room only.
    [removed] = livekit_server.methods("RemoveParticipant")
    assert (removed.request.room, removed.request.identity) == (room["id"], world.owner.user_id)
    assert world.owner.user_id not in livekit_server.connected(room["id"])
    assert livekit_server.methods("DeleteRoom") == []
    assert livekit_server.violations == []


async def test_the_last_one_out_ends_the_call(
    video: Client, world: World, livekit_server: FakeLiveKit, db_video: Db
) -> None:
    room = await create_room(video, world.owner, world.a)
    await joined(video, world.member, room["id"])
    response = await video.post(path(room["id"], "leave"), headers=world.member.headers)
    assert response.status_code == 200, response.text
    assert await room_row(db_video, room["id"]) == (False, True)
    [deleted] = livekit_server.methods("DeleteRoom")
    assert deleted.request.room == room["id"]
    assert room["id"] not in livekit_server.rooms
    history = await video.get(
        f"/api/video/history/workspace/{world.a}", headers=world.owner.headers
    )
    assert [h["roomId"] for h in history.json()["data"]] == [room["id"]]


async def test_leaving_a_call_one_is_not_in(video: Client, world: World, db_video: Db) -> None:
    room = await create_room(video, world.owner, world.a)
    await joined(video, world.admin, room["id"])
    assert_error(
        await video.post(path(room["id"], "leave"), headers=world.member.headers),
        400,
        "NOT_IN_ROOM",
    )
    response = await video.post(path(str(uuid.uuid4()), "leave"), headers=world.member.headers)
    assert_error(response, 404, "NOT_FOUND")
    assert await seats(db_video, room["id"]) == {world.admin.user_id: (True, False)}


async def test_livekit_down_on_leave_changes_nothing(
    video: Client, world: World, livekit_server: FakeLiveKit, db_video: Db
) -> None:
    room = await create_room(video, world.owner, world.a)
    await joined(video, world.member, room["id"])
    livekit_server.down = True
    response = await video.post(path(room["id"], "leave"), headers=world.member.headers)
    assert_error(response, 503, "LIVEKIT_UNAVAILABLE")
    assert await seats(db_video, room["id"]) == {world.member.user_id: (True, False)}
    assert await room_row(db_video, room["id"]) == (True, False)


async def test_end_by_the_creator_or_an_admin_not_by_members(
    video: Client, world: World, livekit_server: FakeLiveKit, db_video: Db
) -> None:
    mine = await create_room(video, world.member, world.a)
    theirs = await create_room(video, world.owner, world.a)
    await joined(video, world.admin, theirs["id"])

    refused = await video.post(path(theirs["id"], "end"), headers=world.member.headers)
    assert_error(refused, 403, "FORBIDDEN")
    assert await room_row(db_video, theirs["id"]) == (True, False)
    assert livekit_server.methods("DeleteRoom") == []

    for who, room in ((world.member, mine), (world.admin, theirs)):
        response = await video.post(path(room["id"], "end"), headers=who.headers)
        assert response.status_code == 200, response.text
        assert response.json() == {"success": True, "message": "Room ended successfully"}
        assert await room_row(db_video, room["id"]) == (False, True)
    assert await seats(db_video, theirs["id"]) == {world.admin.user_id: (False, False)}
    assert sorted(c.request.room for c in livekit_server.methods("DeleteRoom")) == sorted(
        [mine["id"], theirs["id"]]
    )
    again = await video.post(path(mine["id"], "end"), headers=world.member.headers)
    assert_error(again, 410, "ROOM_ENDED")
    assert livekit_server.violations == []


async def test_livekit_down_on_end_keeps_the_call(
    video: Client, world: World, livekit_server: FakeLiveKit, db_video: Db
) -> None:
    room = await create_room(video, world.owner, world.a)
    await joined(video, world.member, room["id"])
    livekit_server.down = True
    response = await video.post(path(room["id"], "end"), headers=world.owner.headers)
    assert_error(response, 503, "LIVEKIT_UNAVAILABLE")
    assert await room_row(db_video, room["id"]) == (True, False)
    assert await seats(db_video, room["id"]) == {world.member.user_id: (True, False)}


async def test_a_room_livekit_already_closed_can_still_end(
    video: Client, world: World, livekit_server: FakeLiveKit, db_video: Db
) -> None:
    room = await create_room(video, world.owner, world.a)
    livekit_server.rooms.pop(room["id"])  # e.g. closed by its empty timeout
    response = await video.post(path(room["id"], "end"), headers=world.owner.headers)
    assert response.status_code == 200, response.text
    assert await room_row(db_video, room["id"]) == (False, True)


async def test_removing_a_participant(
    video: Client, world: World, livekit_server: FakeLiveKit, db_video: Db
) -> None:
    room = await create_room(video, world.owner, world.a)
    await joined(video, world.member, room["id"])
    await joined(video, world.admin, room["id"])
    livekit_server.connect(room["id"], world.member.user_id)
    target = f"/api/video/rooms/{room['id']}/participants/{world.member.user_id}"

    refused = await video.delete(
        f"/api/video/rooms/{room['id']}/participants/{world.admin.user_id}",
        headers=world.member.headers,
    )
    assert_error(refused, 403, "FORBIDDEN")
    assert livekit_server.methods("RemoveParticipant") == []

    response = await video.delete(target, headers=world.owner.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "message": "Participant removed"}
    assert await seats(db_video, room["id"]) == {
        world.member.user_id: (False, True),
        world.admin.user_id: (True, False),
    }
    [removed] = livekit_server.methods("RemoveParticipant")
    assert removed.request.identity == world.member.user_id
    assert removed.claims.video is not None and removed.claims.video.room == room["id"]
    assert world.member.user_id not in livekit_server.connected(room["id"])
    # Removed means removed: joining again is refused.
    assert_error(await join(video, world.member, room["id"]), 403, "FORBIDDEN")
    nobody = f"/api/video/rooms/{room['id']}/participants/{uuid.uuid4()}"
    assert_error(await video.delete(nobody, headers=world.owner.headers), 400, "NOT_IN_ROOM")
    assert livekit_server.violations == []


async def test_removing_oneself_is_leaving(video: Client, world: World, db_video: Db) -> None:
    room = await create_room(video, world.owner, world.a)
    await joined(video, world.member, room["id"])
    await joined(video, world.admin, room["id"])
    me = f"/api/video/rooms/{room['id']}/participants/{world.member.user_id}"
    response = await video.delete(me, headers=world.member.headers)
    assert response.status_code == 200, response.text
    assert (await seats(db_video, room["id"]))[world.member.user_id] == (False, False)
    assert (await join(video, world.member, room["id"])).status_code == 200
