"""The chat socket against a real ``wealist serve chat`` process: acks after commit, each
message once, replay before live, the frames the original frontend listens for."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.chat.support import Socket, create_chat, open_socket, send, token_of
from tests.user.support import World
from wealist.contracts import topics

pytestmark = pytest.mark.slow


async def _no_more_messages(sock: Socket) -> None:
    """Nothing but the pong arrives: no second copy of a message is queued."""
    await sock.send({"type": "ping"})
    while True:
        frame = await sock.recv()
        assert frame["type"] != "MESSAGE_RECEIVED", frame
        if frame["type"] == "pong":
            return


async def test_a_sent_message_is_acked_after_commit_and_received_once(
    chat_process: Any, world: World
) -> None:
    proc = await chat_process()
    async with httpx.AsyncClient(base_url=proc.url) as http:
        room = await create_chat(http, world.owner, world.a, [world.member])
        path = f"/api/chats/ws/{room['chatId']}"
        async with (
            open_socket(proc.ws_url, path, world.owner) as mine,
            open_socket(proc.ws_url, path, world.member) as theirs,
        ):
            await mine.ready()
            await theirs.ready()
            await mine.send({"type": "MESSAGE", "content": "안녕", "clientMessageId": "k1"})
            frames = [await mine.recv(), await mine.recv()]
            kinds = {f["type"]: f for f in frames}
            assert set(kinds) == {"MESSAGE_RECEIVED", "MESSAGE_ACK"}
            ack = kinds["MESSAGE_ACK"]
            assert ack == {
                "type": "MESSAGE_ACK",
                "clientMessageId": "k1",
                "messageId": ack["messageId"],
                "seq": 1,
            }
            stored = await http.get(
                f"/api/chats/messages/{room['chatId']}", headers=world.owner.headers
            )
            assert [m["messageId"] for m in stored.json()["message"]] == [ack["messageId"]]
            got = await theirs.recv()
            assert got["type"] == "MESSAGE_RECEIVED"
            assert got["seq"] == 1
            assert got["message"]["content"] == "안녕"
            assert got["message"]["messageId"] == ack["messageId"]
            # the same send again (a retry): acked with the original, nobody sees a double
            await mine.send({"type": "MESSAGE", "content": "안녕", "clientMessageId": "k1"})
            again = await mine.recv_type("MESSAGE_ACK")
            assert (again["messageId"], again["seq"]) == (ack["messageId"], 1)
            await _no_more_messages(mine)
            await _no_more_messages(theirs)
            await mine.send({"type": "MESSAGE", "content": "   "})
            error = await mine.recv_type("ERROR")
            assert error["code"] == "VALIDATION_ERROR" or error["code"] == "INVALID_MESSAGE"


async def test_resume_replays_before_live_without_gap_or_double(
    chat_process: Any, world: World
) -> None:
    proc = await chat_process()
    async with httpx.AsyncClient(base_url=proc.url) as http:
        room = await create_chat(http, world.owner, world.a, [world.member])
        for i in range(1, 6):
            await send(http, world.owner, room["chatId"], f"m{i}")
        path = f"/api/chats/ws/{room['chatId']}"
        async with open_socket(proc.ws_url, path, world.member, "&after=2") as sock:
            seqs = [(await sock.recv_type("MESSAGE_RECEIVED"))["seq"] for _ in range(3)]
            assert seqs == [3, 4, 5]
            await send(http, world.owner, room["chatId"], "m6")
            assert (await sock.recv_type("MESSAGE_RECEIVED"))["seq"] == 6
            await sock.send({"type": "RESUME", "after": 4})
            assert [(await sock.recv_type("MESSAGE_RECEIVED"))["seq"] for _ in range(2)] == [5, 6]
            await send(http, world.owner, room["chatId"], "m7")
            assert (await sock.recv_type("MESSAGE_RECEIVED"))["seq"] == 7
            await _no_more_messages(sock)
        async with open_socket(proc.ws_url, path, world.member) as fresh:
            await fresh.ready()  # no after: live only
            await send(http, world.owner, room["chatId"], "m8")
            assert (await fresh.recv_type("MESSAGE_RECEIVED"))["seq"] == 8


async def test_replay_too_far_back_says_reset(chat_process: Any, world: World) -> None:
    proc = await chat_process(replay_max=3)
    async with httpx.AsyncClient(base_url=proc.url) as http:
        room = await create_chat(http, world.owner, world.a, [world.member])
        for i in range(5):
            await send(http, world.owner, room["chatId"], f"m{i}")
        path = f"/api/chats/ws/{room['chatId']}"
        async with open_socket(proc.ws_url, path, world.member, "&after=0") as sock:
            reset = await sock.recv()
            five = {"lastSeq": 5, "lastRev": 5}  # five messages, one event each
            assert reset == {"type": "RESET", "reason": "too_far_behind", **five}
            await send(http, world.owner, room["chatId"], "live")
            assert (await sock.recv_type("MESSAGE_RECEIVED"))["seq"] == 6


async def test_typing_reads_edits_deletes_reactions_and_members(
    chat_process: Any, world: World
) -> None:
    proc = await chat_process()
    async with httpx.AsyncClient(base_url=proc.url) as http:
        room = await create_chat(http, world.owner, world.a, [world.member])
        chat_id = room["chatId"]
        path = f"/api/chats/ws/{chat_id}"
        async with (
            open_socket(proc.ws_url, path, world.owner) as owner,
            open_socket(proc.ws_url, path, world.member) as member,
        ):
            await owner.ready()
            await member.ready()
            await member.send({"type": "TYPING_START"})
            typing = await owner.recv_type("USER_TYPING")
            assert typing == {
                "type": "USER_TYPING",
                "userId": world.member.user_id,
                "chatId": chat_id,
            }
            await member.send({"type": "TYPING_STOP"})
            stop = await owner.recv_type("TYPING_STOP")
            assert stop == {
                "type": "TYPING_STOP",
                "userId": world.member.user_id,
                "chatId": chat_id,
            }
            message = await send(http, world.owner, chat_id, "read me")
            await member.send({"type": "READ_MESSAGE", "messageId": message["messageId"]})
            read = await owner.recv_type("MESSAGE_READ")
            assert read == {
                "rev": 2,  # the chat's events: the message was 1
                "type": "MESSAGE_READ",
                "chatId": chat_id,
                "userId": world.member.user_id,
                "messageId": message["messageId"],
                "seq": 1,
            }
            seen_by = await http.get(f"/api/chats/{chat_id}", headers=world.owner.headers)
            cursors = {
                p["userId"]: p["lastReadSeq"] for p in seen_by.json()["message"]["participants"]
            }
            assert cursors[world.member.user_id] == 1  # "seen by" in a DM or group
            mid = message["messageId"]
            await http.put(
                f"/api/chats/messages/{mid}",
                json={"content": "edited"},
                headers=world.owner.headers,
            )
            updated = await member.recv_type("MESSAGE_UPDATED")
            assert updated["message"]["content"] == "edited"
            await http.post(
                f"/api/chats/messages/{mid}/reactions",
                json={"emoji": "🎉"},
                headers=world.member.headers,
            )
            reaction = await owner.recv_type("REACTION_ADDED")
            assert (reaction["emoji"], reaction["userId"]) == ("🎉", world.member.user_id)
            await http.delete(
                f"/api/chats/messages/{mid}/reactions/🎉", headers=world.member.headers
            )
            assert (await owner.recv_type("REACTION_REMOVED"))["emoji"] == "🎉"
            await http.delete(f"/api/chats/messages/{mid}", headers=world.owner.headers)
            deleted = await member.recv_type("MESSAGE_DELETED")
            assert deleted == {
                "rev": 6,  # after the edit and two reaction changes
                "type": "MESSAGE_DELETED",
                "chatId": chat_id,
                "messageId": mid,
                "seq": 1,
            }
            await http.post(
                f"/api/chats/{chat_id}/participants",
                json={"userIds": [world.admin.user_id]},
                headers=world.owner.headers,
            )
            joined = await member.recv_type("USER_JOINED")
            assert joined == {
                "rev": 7,
                "type": "USER_JOINED",
                "chatId": chat_id,
                "userId": world.admin.user_id,
            }
            await http.delete(
                f"/api/chats/{chat_id}/participants/{world.admin.user_id}",
                headers=world.admin.headers,
            )
            left = await member.recv_type("USER_LEFT")
            assert (left["rev"], left["userId"]) == (8, world.admin.user_id)


async def test_sockets_refuse_strangers(chat_process: Any, world: World) -> None:
    proc = await chat_process()
    async with httpx.AsyncClient(base_url=proc.url) as http:
        room = await create_chat(http, world.owner, world.a, [world.member])
    path = f"{proc.ws_url}/api/chats/ws/{room['chatId']}"
    for query in (
        "",
        "?token=garbage",
        f"?token={token_of(world.outsider)}",
        f"?token={token_of(world.admin)}",
    ):
        with pytest.raises(InvalidStatus):
            async with connect(path + query, open_timeout=10):
                pass
    with pytest.raises(InvalidStatus):
        async with connect(f"{proc.ws_url}/api/chats/ws/presence", open_timeout=10):
            pass
    bad = (
        f"{proc.ws_url}/api/chats/ws/presence"
        f"?token={token_of(world.outsider)}&workspaceId={world.a}"
    )
    with pytest.raises(InvalidStatus):
        async with connect(bad, open_timeout=10):
            pass


async def test_limits_close_only_the_violating_socket(chat_process: Any, world: World) -> None:
    proc = await chat_process(
        ws_max_frame_bytes=2048, ws_messages_per_s=5, ws_rate_strikes=5, ws_sockets_per_user=3
    )
    async with httpx.AsyncClient(base_url=proc.url) as http:
        room = await create_chat(http, world.owner, world.a, [world.member])
        path = f"/api/chats/ws/{room['chatId']}"
        async with open_socket(proc.ws_url, path, world.member) as control:
            await control.ready()
            # a frame over the limit: 1009
            async with open_socket(proc.ws_url, path, world.owner) as big:
                await big.ready()
                await big.send({"type": "MESSAGE", "content": "x" * 4000})
                with pytest.raises(ConnectionClosed) as closed:
                    while True:
                        await big.recv()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
            # too many frames a second: RATE_LIMITED, then 4429. In lockstep (each frame
            # after the answer to the one before): a frame still unread when the server
            # closes would reset the connection and lose the close frame.
            async with open_socket(proc.ws_url, path, world.owner) as noisy:
                await noisy.ready()
                codes, acked = [], 0
                with pytest.raises(ConnectionClosed) as closed:
                    for n in range(40):
                        await noisy.send({"type": "MESSAGE", "content": f"noisy {n}"})
                        while (frame := await noisy.recv())["type"] not in ("MESSAGE_ACK", "ERROR"):
                            pass
                        if frame["type"] == "ERROR":
                            codes.append(frame["code"])
                        else:
                            acked += 1
                assert set(codes) == {"RATE_LIMITED"}
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
            # more sockets than allowed per user: the newest is refused with 4409
            async with (
                open_socket(proc.ws_url, path, world.owner) as s1,
                open_socket(proc.ws_url, path, world.owner) as s2,
                open_socket(proc.ws_url, path, world.owner) as s3,
            ):
                for opened in (s1, s2, s3):  # the closed ones above no longer count
                    await opened.ready()
                async with open_socket(proc.ws_url, path, world.owner) as s4:
                    error = await s4.recv()
                    assert error["code"] == "TOO_MANY_SOCKETS"
                    with pytest.raises(ConnectionClosed) as closed:
                        await s4.recv()
                    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4409
                # invalid JSON and unknown frames: an error frame, the socket lives on
                await s1.send("{not json")
                assert (await s1.recv_type("ERROR"))["code"] == "INVALID_MESSAGE"
                await s1.send(json.dumps({"type": "DANCE"}))
                assert (await s1.recv_type("ERROR"))["code"] == "INVALID_MESSAGE"
                # a NUL (text columns cannot hold one): refused before anything is stored
                await s1.send({"type": "MESSAGE", "content": "nul \u0000 inside"})
                assert (await s1.recv_type("ERROR"))["code"] == "INVALID_MESSAGE"
                await s1.send({"type": "MESSAGE", "content": "still here"})
                assert (await s1.recv_type("MESSAGE_ACK"))["seq"] == acked + 1
            while (got := await control.recv_type("MESSAGE_RECEIVED"))["message"]["content"] != (
                "still here"
            ):
                assert got["message"]["content"].startswith("noisy")


async def _raw_message(sock: Socket) -> str:
    """The next MESSAGE_RECEIVED frame as sent, byte for byte."""
    while True:
        raw = str(await asyncio.wait_for(sock.ws.recv(), 10))
        if '"type":"MESSAGE_RECEIVED"' in raw[:64]:
            return raw


async def test_one_publish_per_frame_however_many_sockets_follow_the_chat(
    chat_process: Any, world: World, redis: Redis
) -> None:
    """12 sockets of a chat on one process: a message is one PUBLISH on the chat's topic
    (the process's hub fans it out) and every socket gets the same frame, once."""
    proc = await chat_process()
    async with httpx.AsyncClient(base_url=proc.url) as http:
        room = await create_chat(http, world.owner, world.a, [world.admin, world.member])
        path = f"/api/chats/ws/{room['chatId']}"
        people = [world.owner, world.admin, world.member] * 4
        async with contextlib.AsyncExitStack() as stack:
            sockets = [
                await stack.enter_async_context(open_socket(proc.ws_url, path, who))
                for who in people
            ]
            for sock in sockets:
                await sock.ready()
            listener = redis.pubsub()
            await listener.subscribe(topics.chat(room["chatId"]))
            stack.push_async_callback(listener.aclose)
            assert (await listener.get_message(timeout=5))["type"] == "subscribe"
            for n in range(3):
                await send(http, world.owner, room["chatId"], f"fan-out {n}")
                frames = await asyncio.gather(*(_raw_message(s) for s in sockets))
                assert len(set(frames)) == 1 and f"fan-out {n}" in frames[0]
                published = await listener.get_message(timeout=5)
                assert published is not None and published["data"].decode() == frames[0]
            # nothing else was published on the topic: the next one there is our marker
            await redis.publish(topics.chat(room["chatId"]), b'{"type":"marker"}')
            after = await listener.get_message(timeout=5)
            assert after is not None and after["data"] == b'{"type":"marker"}'
            for sock in sockets:
                await _no_more_messages(sock)
