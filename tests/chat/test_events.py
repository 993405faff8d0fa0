"""The chat's event log against a real ``wealist serve chat`` process: every change a
client shows carries the chat's next ``rev``; a socket resuming with ``?rev=`` (or a
``RESUME`` frame) is sent exactly what it missed - edits, deletions, reactions, reads and
membership included - and one whose point the log no longer holds is told to RESET."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.chat.support import Socket, create_chat, open_socket, send, token_of
from tests.user.support import World

pytestmark = pytest.mark.slow

QUIET = {"pong", "USER_TYPING", "TYPING_STOP", "MESSAGE_ACK"}


async def events_until_pong(sock: Socket) -> list[dict[str, Any]]:
    """Every event frame queued for the socket so far (a ping's pong comes after them)."""
    await sock.send({"type": "ping"})
    found = []
    while (frame := await sock.recv())["type"] != "pong":
        if frame["type"] not in QUIET:
            found.append(frame)
    return found


async def chat_detail(http: httpx.AsyncClient, chat_id: str, world: World) -> dict[str, Any]:
    answer = await http.get(f"/api/chats/{chat_id}", headers=world.owner.headers)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()["message"]
    return found


async def changes_while_away(http: httpx.AsyncClient, world: World, chat_id: str) -> str:
    """One of each kind of change to the chat's first message (sent before); its id."""
    listed = await http.get(f"/api/chats/messages/{chat_id}", headers=world.owner.headers)
    first = listed.json()["message"][0]["messageId"]
    member, owner = world.member.headers, world.owner.headers
    edited = await http.put(
        f"/api/chats/messages/{first}", json={"content": "edited"}, headers=owner
    )
    assert edited.status_code == 200, edited.text
    reactions = f"/api/chats/messages/{first}/reactions"
    for emoji in ("👍", "🎉"):
        added = await http.post(reactions, json={"emoji": emoji}, headers=member)
        assert added.status_code == 200, added.text
    assert (await http.delete(f"{reactions}/👍", headers=member)).status_code == 204
    read = await http.post("/api/chats/messages/read", json={"messageIds": [first]}, headers=member)
    assert read.status_code == 200, read.text
    gone = await send(http, world.owner, chat_id, "sent and deleted while away")
    deleted = await http.delete(f"/api/chats/messages/{gone['messageId']}", headers=owner)
    assert deleted.status_code == 204, deleted.text
    joined = await http.post(
        f"/api/chats/{chat_id}/participants",
        json={"userIds": [world.admin.user_id]},
        headers=owner,
    )
    assert joined.status_code == 200, joined.text
    return str(first)


EXPECTED_AWAY = [
    "MESSAGE_UPDATED",
    "REACTION_ADDED",
    "REACTION_ADDED",
    "REACTION_REMOVED",
    "MESSAGE_READ",
    "MESSAGE_RECEIVED",
    "MESSAGE_DELETED",
    "USER_JOINED",
]


async def test_a_resume_by_rev_replays_every_kind_of_change_once_in_order(
    chat_process: Any, world: World
) -> None:
    proc = await chat_process(ws_heartbeat_s=0.5)
    async with httpx.AsyncClient(base_url=proc.url) as http:
        room = await create_chat(http, world.owner, world.a, [world.member])
        chat_id = room["chatId"]
        path = f"/api/chats/ws/{chat_id}"
        await send(http, world.owner, chat_id, "first")
        seen = await chat_detail(http, chat_id, world)
        assert (seen["lastSeq"], seen["lastRev"]) == (1, 1)

        await changes_while_away(http, world, chat_id)
        now = await chat_detail(http, chat_id, world)
        assert (now["lastSeq"], now["lastRev"]) == (2, 1 + len(EXPECTED_AWAY))

        async with open_socket(proc.ws_url, path, world.owner, f"&rev={seen['lastRev']}") as sock:
            replayed = await events_until_pong(sock)
            assert [f["type"] for f in replayed] == EXPECTED_AWAY
            assert [f["rev"] for f in replayed] == list(range(2, 2 + len(EXPECTED_AWAY)))
            assert replayed[0]["message"]["content"] == "edited"
            # then live, numbered on
            await send(http, world.member, chat_id, "live")
            live = await sock.recv_type("MESSAGE_RECEIVED")
            assert (live["seq"], live["rev"]) == (3, 2 + len(EXPECTED_AWAY))
            # a RESUME frame by rev: the same events again, in order, then nothing twice
            await sock.send({"type": "RESUME", "rev": now["lastRev"] - 1})
            again = await events_until_pong(sock)
            assert [f["rev"] for f in again] == [now["lastRev"], live["rev"]]
            beat = await asyncio.wait_for(_heartbeat(sock), 10)
            assert (beat["lastSeq"], beat["lastRev"]) == (3, live["rev"])


async def _heartbeat(sock: Socket) -> dict[str, Any]:
    count = len(sock.heartbeats)
    while len(sock.heartbeats) == count:
        await sock.send({"type": "ping"})
        await sock.recv_type("pong")
        await asyncio.sleep(0.2)
    return sock.heartbeats[-1]


async def test_a_resume_by_message_seq_also_brings_changes_to_older_messages(
    chat_process: Any, world: World
) -> None:
    """Clients that only know message seqs (``?after=``) get the events since that
    message: the changes made while away to messages they had, too."""
    proc = await chat_process()
    async with httpx.AsyncClient(base_url=proc.url) as http:
        room = await create_chat(http, world.owner, world.a, [world.member])
        chat_id = room["chatId"]
        await send(http, world.owner, chat_id, "first")
        await changes_while_away(http, world, chat_id)
        path = f"/api/chats/ws/{chat_id}"
        async with open_socket(proc.ws_url, path, world.member, "&after=1") as sock:
            assert [f["type"] for f in await events_until_pong(sock)] == EXPECTED_AWAY


async def test_a_read_all_that_moves_nothing_is_no_event(chat_process: Any, world: World) -> None:
    proc = await chat_process()
    async with httpx.AsyncClient(base_url=proc.url) as http:
        room = await create_chat(http, world.owner, world.a, [world.member])
        chat_id = room["chatId"]
        await send(http, world.owner, chat_id, "first")
        last_read = f"/api/chats/messages/{chat_id}/last-read"
        for _ in range(3):
            assert (await http.put(last_read, headers=world.member.headers)).status_code == 200
        detail = await chat_detail(http, chat_id, world)
        assert detail["lastRev"] == 2  # the message, one read
        cursors = {p["userId"]: p["lastReadSeq"] for p in detail["participants"]}
        assert cursors[world.member.user_id] == 1


async def test_resume_points_the_log_cannot_serve_get_reset(
    chat_process: Any, world: World, db_chat: Any
) -> None:
    proc = await chat_process(event_retention_s=1.0)  # pruned every ~40 ms
    async with httpx.AsyncClient(base_url=proc.url) as http:
        room = await create_chat(http, world.owner, world.a, [world.member])
        chat_id = room["chatId"]
        for i in range(3):
            await send(http, world.owner, chat_id, f"m{i}")
        path = f"/api/chats/ws/{chat_id}"

        async def pruned() -> bool:
            query = "SELECT count(*) FROM chat_events WHERE chat_id = %s"
            cur = await db_chat.execute(query, (chat_id,))
            row = await cur.fetchone()
            return bool(row[0] == 0)

        for _ in range(100):
            if await pruned():
                break
            await asyncio.sleep(0.1)
        assert await pruned()
        tail = {"lastSeq": 3, "lastRev": 3}
        async with open_socket(proc.ws_url, path, world.member, "&rev=1") as sock:
            assert await sock.recv() == {"type": "RESET", "reason": "too_old", **tail}
            await send(http, world.owner, chat_id, "live")  # then live, from the tail on
            assert (await sock.recv_type("MESSAGE_RECEIVED"))["rev"] == 4
        async with open_socket(proc.ws_url, path, world.member, "&rev=9") as sock:
            reset = await sock.recv()
            assert (reset["type"], reset["reason"], reset["lastRev"]) == ("RESET", "ahead", 4)
        async with open_socket(proc.ws_url, path, world.member, "&rev=4") as sock:
            assert await events_until_pong(sock) == []  # up to date: nothing, no reset


async def test_a_malformed_resume_point_is_refused(chat_process: Any, world: World) -> None:
    proc = await chat_process()
    async with httpx.AsyncClient(base_url=proc.url) as http:
        room = await create_chat(http, world.owner, world.a, [world.member])
    base = f"{proc.ws_url}/api/chats/ws/{room['chatId']}?token={token_of(world.member)}"
    for query in ("rev=-1", "rev=x", "rev=1e3", "after=99999999999999999999"):
        with pytest.raises(InvalidStatus):  # refused before the handshake completes
            async with connect(f"{base}&{query}", open_timeout=10):
                pass
    async with connect(f"{base}&rev=0", open_timeout=10) as ws:  # a valid one is admitted
        await ws.send('{"type":"ping"}')
        assert '"pong"' in str(await asyncio.wait_for(ws.recv(), 10))
