"""Joining a call: a seat, and a LiveKit token scoped to that one room (T28)."""

from __future__ import annotations

import json
import uuid

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.livekit_server import API_KEY, FakeLiveKit
from tests.user.support import World
from tests.video.support import Db, assert_error, create_room, data_of, grants, join, joined, seats

Client = AsyncTestClient[Litestar]

ADMIN_GRANTS = ("roomAdmin", "roomCreate", "roomList", "roomRecord", "ingressAdmin")


async def test_join_token_grants_exactly_one_room(
    video: Client, world: World, users: httpx.AsyncClient, livekit_server: FakeLiveKit
) -> None:
    nick = await users.put(
        "/api/profiles/me",
        json={"nickName": "Bea in Alpha"},
        headers={**world.member.headers, "X-Workspace-Id": world.a},
    )
    assert nick.status_code == 200, nick.text
    room = await create_room(video, world.owner, world.a)
    reply = await joined(video, world.member, room["id"])
    assert set(reply) == {"room", "token", "wsUrl", "expiresAt"}
    assert reply["wsUrl"] == "ws://127.0.0.1:7880"
    assert reply["room"]["participantCount"] == 1
    assert reply["room"]["participants"][0]["name"] == "Bea in Alpha"

    claims = grants(reply["token"])
    assert claims["iss"] == API_KEY
    assert claims["sub"] == world.member.user_id  # opaque id: no email or name in sub
    assert claims["name"] == "Bea in Alpha"  # the workspace profile, not client input
    assert 0 < claims["exp"] - claims["nbf"] <= 600
    video_grant = claims["video"]
    assert video_grant["room"] == room["id"]
    assert video_grant["roomJoin"] is True
    assert video_grant["canPublish"] is True
    assert video_grant["canSubscribe"] is True
    assert video_grant["canPublishData"] is True
    assert video_grant["canUpdateOwnMetadata"] is False
    assert sorted(video_grant["canPublishSources"]) == ["camera", "microphone", "screen_share"]
    for grant in ADMIN_GRANTS:
        assert not video_grant.get(grant), grant
    assert json.loads(claims["metadata"]) == {
        "id": world.member.user_id,
        "nickName": "Bea in Alpha",
        "profileImageUrl": None,
    }
    assert livekit_server.violations == []


async def test_a_token_for_room_a_does_not_join_room_b(video: Client, world: World) -> None:
    room_a = await create_room(video, world.owner, world.a, name="A")
    room_b = await create_room(video, world.owner, world.a, name="B")
    token_a = (await joined(video, world.member, room_a["id"]))["token"]
    token_b = (await joined(video, world.member, room_b["id"]))["token"]
    assert grants(token_a)["video"]["room"] == room_a["id"]
    assert grants(token_b)["video"]["room"] == room_b["id"]
    assert grants(token_a)["video"]["room"] != room_b["id"]


async def test_user_name_query_is_not_trusted(video: Client, world: World) -> None:
    room = await create_room(video, world.owner, world.a)
    path = f"/api/video/rooms/{room['id']}/join?userName=The%20CEO"
    response = await video.post(path, json={}, headers=world.member.headers)
    token = data_of(response)["token"]
    assert grants(token)["name"] != "The CEO"
    assert grants(token)["sub"] == world.member.user_id


async def test_joining_again_reissues_a_token_without_a_second_seat(
    video: Client, world: World, db_video: Db
) -> None:
    room = await create_room(video, world.owner, world.a, maxParticipants=1)
    first = await joined(video, world.member, room["id"])
    again = await joined(video, world.member, room["id"])  # a reloaded page
    assert again["room"]["participantCount"] == 1
    assert grants(again["token"])["video"]["room"] == room["id"]
    assert first["room"]["participants"][0]["id"] == again["room"]["participants"][0]["id"]
    assert await seats(db_video, room["id"]) == {world.member.user_id: (True, False)}
    assert_error(await join(video, world.admin, room["id"]), 409, "ROOM_FULL")


async def test_outsiders_and_ended_rooms(video: Client, world: World, db_video: Db) -> None:
    room = await create_room(video, world.owner, world.a)
    for outsider in (world.outsider, world.other_admin):
        response = await join(video, outsider, room["id"])
        assert_error(response, 403, "FORBIDDEN")
        assert "token" not in response.text
    assert_error(await join(video, world.member, str(uuid.uuid4())), 404, "NOT_FOUND")
    response = await video.post(f"/api/video/rooms/{room['id']}/join", json={})
    assert_error(response, 401, "UNAUTHORIZED")
    assert await seats(db_video, room["id"]) == {}

    ended = await video.post(f"/api/video/rooms/{room['id']}/end", headers=world.owner.headers)
    assert ended.status_code == 200, ended.text
    assert_error(await join(video, world.member, room["id"]), 410, "ROOM_ENDED")


async def test_rejoining_after_leaving_is_a_new_session(
    video: Client, world: World, db_video: Db
) -> None:
    room = await create_room(video, world.owner, world.a)
    await joined(video, world.admin, room["id"])  # keeps the call going
    first = await joined(video, world.member, room["id"])
    left = await video.post(f"/api/video/rooms/{room['id']}/leave", headers=world.member.headers)
    assert left.status_code == 200, left.text
    assert (await seats(db_video, room["id"]))[world.member.user_id] == (False, False)
    again = await joined(video, world.member, room["id"])
    mine = [p for p in again["room"]["participants"] if p["userId"] == world.member.user_id]
    assert mine[0]["id"] == next(
        p["id"] for p in first["room"]["participants"] if p["userId"] == world.member.user_id
    )
    assert mine[0]["isActive"] is True and mine[0]["leftAt"] is None
