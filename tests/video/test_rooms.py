"""Rooms: create (with its LiveKit room), list, read, who is in the call."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.livekit_server import FakeLiveKit
from tests.user.support import World
from tests.video.support import Db, assert_error, create_room, data_of, join, room_row

Client = AsyncTestClient[Litestar]

ROOM_KEYS = {
    "id", "name", "workspaceId", "creatorId", "maxParticipants", "isActive",
    "participantCount", "participants", "createdAt", "updatedAt", "endedAt",
}  # fmt: skip
PARTICIPANT_KEYS = {"id", "userId", "name", "joinedAt", "leftAt", "isActive"}


async def count_rooms(db: Db) -> int:
    cur = await db.execute("SELECT count(*) FROM rooms")
    found = await cur.fetchone()
    assert found is not None
    return int(found[0])


async def test_create_room_makes_the_livekit_room(
    video: Client, world: World, livekit_server: FakeLiveKit, db_video: Db
) -> None:
    room = await create_room(
        video, world.member, world.a, name=" Design review ", maxParticipants=4
    )
    assert set(room) == ROOM_KEYS
    assert room["name"] == "Design review"
    assert room["workspaceId"] == world.a
    assert room["creatorId"] == world.member.user_id
    assert room["maxParticipants"] == 4
    assert room["isActive"] is True
    assert room["participantCount"] == 0
    assert room["participants"] == []
    assert room["endedAt"] is None
    assert await room_row(db_video, room["id"]) == (True, False)

    [call] = livekit_server.methods("CreateRoom")
    assert call.request.name == room["id"]  # LiveKit sees an opaque id, not the room's name
    assert call.request.max_participants == 4
    assert call.request.empty_timeout == 300
    assert call.claims.video is not None and call.claims.video.room_create is True
    assert livekit_server.violations == []


async def test_max_participants_defaults_to_ten(video: Client, world: World) -> None:
    room = await create_room(video, world.owner, world.a)
    assert room["maxParticipants"] == 10
    room = await create_room(video, world.owner, world.a, maxParticipants=None)
    assert room["maxParticipants"] == 10


async def test_bad_bodies_are_refused_and_store_nothing(
    video: Client, world: World, db_video: Db, livekit_server: FakeLiveKit
) -> None:
    before = await count_rooms(db_video)
    for body in (
        {"workspaceId": world.a},
        {"name": "", "workspaceId": world.a},
        {"name": "x" * 101, "workspaceId": world.a},
        {"name": "ok\x00", "workspaceId": world.a},
        {"name": "ok", "workspaceId": "not-a-uuid"},
        {"name": "ok", "workspaceId": world.a, "maxParticipants": 0},
        {"name": "ok", "workspaceId": world.a, "maxParticipants": 101},
        {"name": "ok", "workspaceId": world.a, "surprise": True},
    ):
        response = await video.post("/api/video/rooms", json=body, headers=world.owner.headers)
        assert_error(response, 400, "VALIDATION_ERROR")
    assert await count_rooms(db_video) == before
    assert livekit_server.calls == []


async def test_outsiders_cannot_create_rooms(
    video: Client, world: World, db_video: Db, livekit_server: FakeLiveKit
) -> None:
    before = await count_rooms(db_video)
    body = {"name": "Sneaky", "workspaceId": world.a}
    response = await video.post("/api/video/rooms", json=body, headers=world.other_admin.headers)
    assert_error(response, 403, "FORBIDDEN")
    assert world.a not in response.text
    response = await video.post("/api/video/rooms", json=body)
    assert_error(response, 401, "UNAUTHORIZED")
    assert await count_rooms(db_video) == before
    assert livekit_server.calls == []


async def test_livekit_down_means_503_and_no_room(
    video: Client, world: World, db_video: Db, livekit_server: FakeLiveKit
) -> None:
    before = await count_rooms(db_video)
    livekit_server.down = True
    body = {"name": "Doomed", "workspaceId": world.a}
    response = await video.post("/api/video/rooms", json=body, headers=world.owner.headers)
    assert_error(response, 503, "LIVEKIT_UNAVAILABLE")
    assert await count_rooms(db_video) == before


async def test_get_room_and_participants(video: Client, world: World) -> None:
    room = await create_room(video, world.owner, world.a)
    for who in (world.member, world.admin):
        assert (await join(video, who, room["id"])).status_code == 200
    found = data_of(await video.get(f"/api/video/rooms/{room['id']}", headers=world.member.headers))
    assert set(found) == ROOM_KEYS
    assert found["participantCount"] == 2
    assert [p["userId"] for p in found["participants"]] == [
        world.member.user_id,
        world.admin.user_id,
    ]
    people = data_of(
        await video.get(f"/api/video/rooms/{room['id']}/participants", headers=world.owner.headers)
    )
    assert [set(p) for p in people] == [PARTICIPANT_KEYS, PARTICIPANT_KEYS]
    assert all(p["isActive"] is True and p["leftAt"] is None for p in people)
    assert people == found["participants"]


async def test_unknown_and_malformed_room_ids(video: Client, world: World) -> None:
    response = await video.get(f"/api/video/rooms/{uuid.uuid4()}", headers=world.owner.headers)
    assert_error(response, 404, "NOT_FOUND")
    response = await video.get("/api/video/rooms/nope", headers=world.owner.headers)
    assert_error(response, 400, "VALIDATION_ERROR")


async def list_rooms(client: Client, world: World, query: str = "") -> tuple[list[Any], Any]:
    response = await client.get(
        f"/api/video/rooms/workspace/{world.a}{query}", headers=world.member.headers
    )
    return data_of(response), response.headers.get("x-next-cursor")


async def test_workspace_rooms_newest_first_with_active_filter_and_cursor(
    video: Client, world: World
) -> None:
    made = [await create_room(video, world.owner, world.a, name=f"room {n}") for n in range(3)]
    ended = made[0]["id"]
    response = await video.post(f"/api/video/rooms/{ended}/end", headers=world.owner.headers)
    assert response.status_code == 200, response.text

    everything, cursor = await list_rooms(video, world)
    assert [r["id"] for r in everything] == [r["id"] for r in reversed(made)]
    assert cursor is None
    active, _ = await list_rooms(video, world, "?active=true")
    assert [r["id"] for r in active] == [made[2]["id"], made[1]["id"]]
    also_all, _ = await list_rooms(video, world, "?active=false")
    assert len(also_all) == 3

    first, cursor = await list_rooms(video, world, "?limit=2")
    assert [r["id"] for r in first] == [made[2]["id"], made[1]["id"]]
    assert cursor
    rest, cursor = await list_rooms(video, world, f"?limit=2&cursor={cursor}")
    assert [r["id"] for r in rest] == [made[0]["id"]]
    assert cursor is None

    response = await video.get(
        f"/api/video/rooms/workspace/{world.a}?cursor=garbage", headers=world.member.headers
    )
    assert_error(response, 400, "VALIDATION_ERROR")
    response = await video.get(
        f"/api/video/rooms/workspace/{world.a}", headers=world.other_admin.headers
    )
    assert_error(response, 403, "FORBIDDEN")
