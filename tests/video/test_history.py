"""Call history (listed once a call ends) and transcripts (linked to the call's history)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.user.support import World, member_id_of
from tests.video.support import Db, assert_error, create_room, data_of, joined

Client = AsyncTestClient[Litestar]

HISTORY_KEYS = {
    "id", "roomId", "roomName", "workspaceId", "creatorId", "startedAt", "endedAt",
    "durationSeconds", "maxParticipants", "totalParticipants", "participants",
}  # fmt: skip
PEOPLE_KEYS = {"userId", "name", "joinedAt", "leftAt", "durationSeconds"}
TRANSCRIPT_KEYS = {"id", "callHistoryId", "roomId", "content", "createdAt", "updatedAt"}


async def ended_call(client: Client, world: World, name: str = "Retro") -> dict[str, Any]:
    room = await create_room(client, world.owner, world.a, name=name)
    for who in (world.member, world.admin):
        await joined(client, who, room["id"])
    response = await client.post(f"/api/video/rooms/{room['id']}/end", headers=world.owner.headers)
    assert response.status_code == 200, response.text
    return room


async def page(client: Client, world: World, path: str) -> tuple[dict[str, Any], Any]:
    response = await client.get(path, headers=world.member.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"success", "data", "total", "limit", "offset"}
    return body, response.headers.get("x-next-cursor")


async def test_history_of_an_ended_call(video: Client, world: World) -> None:
    room = await ended_call(video, world)
    body, _ = await page(video, world, f"/api/video/history/workspace/{world.a}")
    assert body["total"] == 1 and body["limit"] == 20 and body["offset"] == 0
    [call] = body["data"]
    assert set(call) == HISTORY_KEYS
    assert call["roomId"] == room["id"]
    assert call["roomName"] == "Retro"
    assert call["creatorId"] == world.owner.user_id
    assert call["totalParticipants"] == 2
    assert call["durationSeconds"] >= 0
    assert call["startedAt"] <= call["endedAt"]
    assert [set(p) for p in call["participants"]] == [PEOPLE_KEYS, PEOPLE_KEYS]
    assert [p["userId"] for p in call["participants"]] == [
        world.member.user_id,
        world.admin.user_id,
    ]
    assert all(p["leftAt"] == call["endedAt"] for p in call["participants"])
    detail = data_of(
        await video.get(f"/api/video/history/{call['id']}", headers=world.admin.headers)
    )
    assert detail == call
    mine, _ = await page(video, world, "/api/video/history/me")
    assert [c["id"] for c in mine["data"]] == [call["id"]]


async def test_a_call_in_progress_has_no_history_yet(video: Client, world: World) -> None:
    room = await create_room(video, world.owner, world.a)
    await joined(video, world.member, room["id"])
    body, _ = await page(video, world, f"/api/video/history/workspace/{world.a}")
    assert body["data"] == [] and body["total"] == 0
    mine, _ = await page(video, world, "/api/video/history/me")
    assert mine["data"] == []


async def test_pages_by_offset_and_by_cursor(video: Client, world: World) -> None:
    calls = [await ended_call(video, world, f"call {n}") for n in range(3)]
    newest_first = [c["id"] for c in reversed(calls)]
    base = f"/api/video/history/workspace/{world.a}"

    first, cursor = await page(video, world, f"{base}?limit=2")
    assert [c["roomId"] for c in first["data"]] == newest_first[:2]
    assert (first["total"], first["limit"], first["offset"]) == (3, 2, 0)
    second, _ = await page(video, world, f"{base}?limit=2&offset=2")
    assert [c["roomId"] for c in second["data"]] == newest_first[2:]
    assert second["offset"] == 2
    assert cursor
    following, last = await page(video, world, f"{base}?limit=2&cursor={cursor}")
    assert [c["roomId"] for c in following["data"]] == newest_first[2:]
    assert last is None
    beyond, _ = await page(video, world, f"{base}?offset=10")
    assert beyond["data"] == [] and beyond["total"] == 3

    for bad in ("?limit=0", "?limit=101", "?offset=-1", "?limit=x", "?cursor=%%%"):
        response = await video.get(f"{base}{bad}", headers=world.member.headers)
        assert_error(response, 400, "VALIDATION_ERROR")


async def test_my_history_is_the_calls_i_took_part_in(video: Client, world: World) -> None:
    with_me = await ended_call(video, world)
    without_me = await create_room(video, world.owner, world.a, name="Owners only")
    await joined(video, world.owner, without_me["id"])
    end = await video.post(f"/api/video/rooms/{without_me['id']}/end", headers=world.owner.headers)
    assert end.status_code == 200, end.text
    mine, _ = await page(video, world, "/api/video/history/me")
    assert [c["roomId"] for c in mine["data"]] == [with_me["id"]]
    assert mine["total"] == 1


async def test_transcript_saved_during_the_call_is_linked_to_its_history(
    video: Client, world: World, db_video: Db
) -> None:
    room = await create_room(video, world.owner, world.a)
    await joined(video, world.member, room["id"])
    url = f"/api/video/rooms/{room['id']}/transcript"
    saved = data_of(await video.post(url, json={"content": "hello"}, headers=world.member.headers))
    assert set(saved) == TRANSCRIPT_KEYS
    assert saved["roomId"] == room["id"]
    assert saved["callHistoryId"] != str(uuid.UUID(int=0))
    again = data_of(
        await video.post(
            url, json={"roomId": room["id"], "content": "hello world"}, headers=world.owner.headers
        )
    )
    assert again["id"] == saved["id"] and again["content"] == "hello world"

    response = await video.post(f"/api/video/rooms/{room['id']}/end", headers=world.owner.headers)
    assert response.status_code == 200, response.text
    body, _ = await page(video, world, f"/api/video/history/workspace/{world.a}")
    assert body["data"][0]["id"] == saved["callHistoryId"]
    found = data_of(
        await video.get(
            f"/api/video/history/{saved['callHistoryId']}/transcript", headers=world.admin.headers
        )
    )
    assert found["content"] == "hello world"
    assert found["callHistoryId"] == saved["callHistoryId"]
    cur = await db_video.execute(
        "SELECT count(*) FROM call_transcripts WHERE room_id = %s", (room["id"],)
    )
    assert await cur.fetchone() == (1,)


async def test_a_call_without_transcript_answers_null(video: Client, world: World) -> None:
    await ended_call(video, world)
    body, _ = await page(video, world, f"/api/video/history/workspace/{world.a}")
    history_id = body["data"][0]["id"]
    response = await video.get(
        f"/api/video/history/{history_id}/transcript", headers=world.member.headers
    )
    assert data_of(response) is None


async def test_transcripts_from_outside_the_call_are_refused(
    video: Client, world: World, db_video: Db
) -> None:
    room = await create_room(video, world.owner, world.a)
    await joined(video, world.member, room["id"])
    url = f"/api/video/rooms/{room['id']}/transcript"
    not_in_call = await video.post(url, json={"content": "x"}, headers=world.admin.headers)
    assert_error(not_in_call, 403, "FORBIDDEN")
    outsider = await video.post(url, json={"content": "x"}, headers=world.other_admin.headers)
    assert_error(outsider, 403, "FORBIDDEN")
    for body in ({"content": ""}, {}, {"content": "x", "roomId": str(uuid.uuid4())}):
        response = await video.post(url, json=body, headers=world.member.headers)
        assert_error(response, 400, "VALIDATION_ERROR")
    cur = await db_video.execute(
        "SELECT count(*) FROM call_transcripts WHERE room_id = %s", (room["id"],)
    )
    assert await cur.fetchone() == (0,)


async def test_history_is_for_workspace_members_only(video: Client, world: World) -> None:
    await ended_call(video, world)
    body, _ = await page(video, world, f"/api/video/history/workspace/{world.a}")
    history_id = body["data"][0]["id"]
    for path in (
        f"/api/video/history/{history_id}",
        f"/api/video/history/{history_id}/transcript",
        f"/api/video/history/workspace/{world.a}",
    ):
        response = await video.get(path, headers=world.other_admin.headers)
        assert_error(response, 403, "FORBIDDEN")
        assert "Retro" not in response.text
    mine = await video.get("/api/video/history/me", headers=world.other_admin.headers)
    assert mine.json()["data"] == []
    missing = await video.get(f"/api/video/history/{uuid.uuid4()}", headers=world.member.headers)
    assert_error(missing, 404, "NOT_FOUND")


async def test_my_history_hides_calls_of_workspaces_i_left(
    video: Client, world: World, users: Any
) -> None:
    await ended_call(video, world)
    mine, _ = await page(video, world, "/api/video/history/me")
    assert len(mine["data"]) == 1
    member_id = await member_id_of(users, world.owner, world.a, world.member)
    removed = await users.delete(
        f"/api/workspaces/{world.a}/members/{member_id}", headers=world.owner.headers
    )
    assert removed.status_code == 200, removed.text
    after, _ = await page(video, world, "/api/video/history/me")
    assert after["data"] == []
    assert "Retro" not in str(after)
