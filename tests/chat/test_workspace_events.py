"""Outbox events from the user service, against a real ``wealist serve chat`` process: a
member removed from a workspace leaves its chats (the others hear ``USER_LEFT``, no
message of those chats reaches them any more); a deleted workspace's chats are deleted
(open sockets hear ``CHAT_DELETED``). Each event applies once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.chat.support import create_chat, open_socket, send
from tests.plugins.events import deliver, envelope
from tests.user.support import World, member_id_of

pytestmark = pytest.mark.slow


async def active_participants(http: httpx.AsyncClient, world: World, chat_id: str) -> set[str]:
    detail = await http.get(f"/api/chats/{chat_id}", headers=world.owner.headers)
    assert detail.status_code == 200, detail.text
    return {p["userId"] for p in detail.json()["message"]["participants"] if p["isActive"]}


async def test_a_removed_member_leaves_every_chat_of_the_workspace(
    chat_process: Any, users: httpx.AsyncClient, world: World, db_chat: Any
) -> None:
    proc = await chat_process()
    async with httpx.AsyncClient(base_url=proc.url, timeout=10) as http:
        group = await create_chat(http, world.owner, world.a, [world.member, world.admin])
        dm = await create_chat(http, world.owner, world.a, [world.member], kind="DM")
        elsewhere = await create_chat(http, world.admin, world.a, [world.owner])
        path = f"/api/chats/ws/{group['chatId']}"
        async with open_socket(proc.ws_url, path, world.owner) as owner:
            await owner.ready()
            member_id = await member_id_of(users, world.owner, world.a, world.member)
            removed = await users.delete(
                f"/api/workspaces/{world.a}/members/{member_id}", headers=world.owner.headers
            )
            assert removed.status_code == 200, removed.text
            event = envelope(
                "workspace.member_removed",
                {
                    "workspaceId": world.a,
                    "userId": world.member.user_id,
                    "removedBy": world.owner.user_id,
                },
            )
            assert await deliver(http, "chat", event) is True
            assert await deliver(http, "chat", event) is False  # the relay delivers at least once
            left = await owner.recv_type("USER_LEFT")
            assert (left["userId"], left["rev"]) == (world.member.user_id, 1)
            await send(http, world.owner, group["chatId"], "after the removal")
            assert (await owner.recv_type("MESSAGE_RECEIVED"))["rev"] == 2
        for chat in (group, dm):
            still = await active_participants(http, world, chat["chatId"])
            assert world.member.user_id not in still
        assert await active_participants(http, world, elsewhere["chatId"]) == {
            world.owner.user_id,
            world.admin.user_id,
        }
        cur = await db_chat.execute(
            "SELECT count(*) FROM chat_events WHERE chat_id = ANY(%s) AND frame LIKE %s",
            ([group["chatId"], dm["chatId"]], '%"USER_LEFT"%'),
        )
        assert (await cur.fetchone())[0] == 2  # one USER_LEFT per chat, not per delivery


async def test_a_deleted_workspace_deletes_its_chats(
    chat_process: Any, users: httpx.AsyncClient, world: World
) -> None:
    proc = await chat_process()
    async with httpx.AsyncClient(base_url=proc.url, timeout=10) as http:
        chats = [await create_chat(http, world.owner, world.a, [world.member]) for _ in range(2)]
        path = f"/api/chats/ws/{chats[0]['chatId']}"
        async with open_socket(proc.ws_url, path, world.member) as member:
            await member.ready()
            event = envelope(
                "workspace.deleted",
                {
                    "workspaceId": world.a,
                    "deletedBy": world.owner.user_id,
                    "memberIds": [world.owner.user_id, world.member.user_id],
                },
            )
            assert await deliver(http, "chat", event) is True
            assert await deliver(http, "chat", event) is False
            deleted = await member.recv_type("CHAT_DELETED")
            assert (deleted["chatId"], deleted["rev"]) == (chats[0]["chatId"], 1)
        mine = await http.get("/api/chats/my", headers=world.owner.headers)
        listed = {c["chatId"] for c in mine.json()["message"]}
        assert not listed & {c["chatId"] for c in chats}
