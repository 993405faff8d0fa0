"""Chats over REST: create (DM once per pair), list with unread counts, read, delete,
participants - with the original's envelopes and the holes of contract 15 fixed."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.chat.support import assert_error, create_chat, send
from tests.user.support import World

Client = AsyncTestClient[Litestar]


async def test_create_group_returns_the_raw_chat(chat: Client, world: World) -> None:
    response = await chat.post(
        "/api/chats",
        json={
            "workspaceId": world.a,
            "chatType": "GROUP",
            "chatName": "Planning",
            "participants": [world.member.user_id, world.member.user_id, world.owner.user_id],
        },
        headers=world.owner.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {
        "chatId",
        "workspaceId",
        "projectId",
        "chatType",
        "chatName",
        "createdBy",
        "createdAt",
        "updatedAt",
        "deletedAt",
        "participants",
        "lastSeq",
        "lastRev",
    }
    assert body["workspaceId"] == world.a
    assert body["chatType"] == "GROUP"
    assert body["chatName"] == "Planning"
    assert body["createdBy"] == world.owner.user_id
    assert body["lastSeq"] == body["lastRev"] == 0
    assert sorted(p["userId"] for p in body["participants"]) == sorted(
        [world.owner.user_id, world.member.user_id]
    )
    participant = body["participants"][0]
    assert set(participant) == {
        "participantId",
        "chatId",
        "userId",
        "joinedAt",
        "lastReadAt",
        "isActive",
        "lastReadSeq",
    }
    assert participant["isActive"] is True


async def test_a_dm_for_the_same_pair_is_the_same_chat(chat: Client, world: World) -> None:
    first = await chat.post(
        "/api/chats",
        json={"workspaceId": world.a, "chatType": "DM", "participants": [world.member.user_id]},
        headers=world.owner.headers,
    )
    assert first.status_code == 201, first.text
    again = await chat.post(
        "/api/chats",
        json={"workspaceId": world.a, "chatType": "DM", "participants": [world.owner.user_id]},
        headers=world.member.headers,
    )
    assert again.status_code == 200, again.text
    assert again.json()["chatId"] == first.json()["chatId"]
    three = await chat.post(
        "/api/chats",
        json={
            "workspaceId": world.a,
            "chatType": "DM",
            "participants": [world.member.user_id, world.admin.user_id],
        },
        headers=world.owner.headers,
    )
    assert_error(three, 400, "VALIDATION_ERROR")


async def test_only_members_create_chats_with_members(
    chat: Client, world: World, db_chat: Any
) -> None:
    outsider = await chat.post(
        "/api/chats",
        json={
            "workspaceId": world.a,
            "chatType": "GROUP",
            "chatName": "x",
            "participants": [world.member.user_id],
        },
        headers=world.outsider.headers,
    )
    assert_error(outsider, 404, "NOT_FOUND")
    stranger = await chat.post(
        "/api/chats",
        json={
            "workspaceId": world.a,
            "chatType": "GROUP",
            "chatName": "x",
            "participants": [world.outsider.user_id],
        },
        headers=world.owner.headers,
    )
    assert_error(stranger, 400, "VALIDATION_ERROR")
    assert stranger.json()["details"] == {"userIds": [world.outsider.user_id]}
    cur = await db_chat.execute("SELECT count(*) FROM chats WHERE workspace_id = %s", (world.a,))
    assert (await cur.fetchone())[0] == 0
    nameless = await chat.post(
        "/api/chats",
        json={"workspaceId": world.a, "chatType": "GROUP", "participants": [world.member.user_id]},
        headers=world.owner.headers,
    )
    assert_error(nameless, 400, "VALIDATION_ERROR")
    unknown_type = await chat.post(
        "/api/chats",
        json={
            "workspaceId": world.a,
            "chatType": "CHANNEL",
            "chatName": "x",
            "participants": [world.member.user_id],
        },
        headers=world.owner.headers,
    )
    assert_error(unknown_type, 400, "VALIDATION_ERROR")


async def test_my_chats_carry_unread_counts(chat: Client, world: World) -> None:
    room = await create_chat(chat, world.owner, world.a, [world.member])
    quiet = await create_chat(chat, world.owner, world.a, [world.admin], name="Quiet")
    for text in ("one", "two", "three"):
        await send(chat, world.owner, room["chatId"], text)
    await send(chat, world.member, room["chatId"], "mine")
    response = await chat.get("/api/chats/my", headers=world.member.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    listed = body["message"]
    assert [c["chatId"] for c in listed] == [room["chatId"]]  # not in "Quiet"
    assert listed[0]["unreadCount"] == 3
    assert listed[0]["lastSeq"] == 4
    owner_view = (await chat.get("/api/chats/my", headers=world.owner.headers)).json()["message"]
    assert [c["chatId"] for c in owner_view] == [room["chatId"], quiet["chatId"]]  # by activity
    assert owner_view[0]["unreadCount"] == 1


async def test_workspace_list_shows_only_the_callers_chats(chat: Client, world: World) -> None:
    mine = await create_chat(chat, world.owner, world.a, [world.member])
    await create_chat(chat, world.owner, world.a, [world.admin], name="Admins")
    response = await chat.get(f"/api/chats/workspace/{world.a}", headers=world.member.headers)
    assert response.status_code == 200, response.text
    assert [c["chatId"] for c in response.json()["message"]] == [mine["chatId"]]
    other = await chat.get(f"/api/chats/workspace/{world.a}", headers=world.other_admin.headers)
    assert_error(other, 404, "NOT_FOUND")


async def test_detail_delete_and_participants(chat: Client, world: World) -> None:
    room = await create_chat(chat, world.owner, world.a, [world.member])
    path = f"/api/chats/{room['chatId']}"
    detail = await chat.get(path, headers=world.member.headers)
    assert detail.status_code == 200
    assert detail.json()["message"]["chatId"] == room["chatId"]
    assert_error(await chat.get(path, headers=world.admin.headers), 403, "FORBIDDEN")
    added = await chat.post(
        f"{path}/participants",
        json={"userIds": [world.admin.user_id]},
        headers=world.member.headers,
    )
    assert added.status_code == 200, added.text
    assert len(added.json()["message"]["participants"]) == 3
    # the creator cannot leave; a participant cannot remove others; anyone can leave
    leave_owner = await chat.delete(
        f"{path}/participants/{world.owner.user_id}", headers=world.owner.headers
    )
    assert_error(leave_owner, 403, "FORBIDDEN")
    kick = await chat.delete(
        f"{path}/participants/{world.admin.user_id}", headers=world.member.headers
    )
    assert_error(kick, 403, "FORBIDDEN")
    leave = await chat.delete(
        f"{path}/participants/{world.member.user_id}", headers=world.member.headers
    )
    assert leave.status_code == 204, leave.text
    assert_error(await chat.get(path, headers=world.member.headers), 403, "FORBIDDEN")
    assert_error(await chat.delete(path, headers=world.admin.headers), 403, "FORBIDDEN")
    assert (await chat.delete(path, headers=world.owner.headers)).status_code == 204
    assert_error(await chat.get(path, headers=world.owner.headers), 404, "NOT_FOUND")
    assert (await chat.get("/api/chats/my", headers=world.owner.headers)).json()["message"] == []
