"""Messages over REST: gapless seq, idempotent sends, history by seq or message id, edits,
deletes, reactions, read cursors, unread counts, search; and sends written together in
one batch (group commit): retries within a batch, a refused message among others."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.chat.support import assert_error, create_chat, send
from tests.user.support import Actor, World
from wealist.chat.actions.messages import ClientIdReused, MessageRefused, do_send
from wealist.chat.schemas import SendMessage

Client = AsyncTestClient[Litestar]

MESSAGE_FIELDS = {
    "messageId",
    "chatId",
    "userId",
    "content",
    "messageType",
    "fileUrl",
    "fileName",
    "fileSize",
    "createdAt",
    "updatedAt",
    "deletedAt",
    "seq",
    "clientMessageId",
    "reactions",
}


async def test_send_stores_with_the_next_seq(chat: Client, world: World, db_chat: Any) -> None:
    room = await create_chat(chat, world.owner, world.a, [world.member])
    first = await send(chat, world.owner, room["chatId"], "hello")
    assert set(first) == MESSAGE_FIELDS
    assert first["seq"] == 1
    assert first["userId"] == world.owner.user_id
    assert first["messageType"] == "TEXT"
    second = await send(chat, world.member, room["chatId"], "hi back")
    assert second["seq"] == 2
    image = await send(
        chat,
        world.member,
        room["chatId"],
        "",
        messageType="IMAGE",
        fileUrl="https://files.example/a.png",
        fileName="a.png",
        fileSize=10,
    )
    assert image["seq"] == 3 and image["content"] == ""
    cur = await db_chat.execute(
        "SELECT seq, content FROM messages WHERE chat_id = %s ORDER BY seq", (room["chatId"],)
    )
    assert await cur.fetchall() == [(1, "hello"), (2, "hi back"), (3, "")]


async def test_bad_messages_are_refused_and_nothing_is_stored(
    chat: Client, world: World, db_chat: Any
) -> None:
    room = await create_chat(chat, world.owner, world.a, [world.member])
    path = f"/api/chats/messages/{room['chatId']}"
    for body in (
        {"content": "   "},
        {"content": "x", "messageType": "VIDEO"},
        {"content": "", "messageType": "FILE"},
        {"content": "x" * 10_001},
        {"content": "bell\x07"},
        {"content": "x", "clientMessageId": ""},
        {"content": "x", "unknown": 1},
    ):
        assert_error(
            await chat.post(path, json=body, headers=world.owner.headers), 400, "VALIDATION_ERROR"
        )
    assert_error(
        await chat.post(path, json={"content": "x"}, headers=world.admin.headers), 403, "FORBIDDEN"
    )
    cur = await db_chat.execute(
        "SELECT (SELECT count(*) FROM messages WHERE chat_id = c.id), c.last_seq FROM chats c"
        " WHERE c.id = %s",
        (room["chatId"],),
    )
    assert await cur.fetchone() == (0, 0)


async def test_a_retried_send_returns_the_original(
    chat: Client, world: World, db_chat: Any
) -> None:
    room = await create_chat(chat, world.owner, world.a, [world.member])
    path = f"/api/chats/messages/{room['chatId']}"
    body = {"content": "only once", "clientMessageId": "c-1"}
    replies = await asyncio.gather(
        *(chat.post(path, json=body, headers=world.owner.headers) for _ in range(5))
    )
    assert {r.status_code for r in replies} == {201}
    assert len({(r.json()["messageId"], r.json()["seq"]) for r in replies}) == 1
    assert replies[0].json()["clientMessageId"] == "c-1"
    changed = await chat.post(
        path,
        json={"content": "something else", "clientMessageId": "c-1"},
        headers=world.owner.headers,
    )
    assert_error(changed, 422, "CLIENT_MESSAGE_ID_REUSED")
    # another author may use the same client id: keys are per (chat, author)
    theirs = await send(chat, world.member, room["chatId"], "mine", clientMessageId="c-1")
    assert theirs["seq"] == 2
    cur = await db_chat.execute(
        "SELECT seq FROM messages WHERE chat_id = %s ORDER BY seq", (room["chatId"],)
    )
    assert [r[0] for r in await cur.fetchall()] == [1, 2]
    cur = await db_chat.execute("SELECT last_seq FROM chats WHERE id = %s", (room["chatId"],))
    assert (await cur.fetchone())[0] == 2  # gapless: the refused retries took no seq


async def test_the_client_id_index_exists(db_chat: Any) -> None:
    cur = await db_chat.execute(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'messages_client_message_key'"
    )
    (definition,) = await cur.fetchone()
    assert "UNIQUE" in definition
    assert "(chat_id, user_id, client_message_id)" in definition


async def test_history_pages_by_seq_and_by_message_id(chat: Client, world: World) -> None:
    room = await create_chat(chat, world.owner, world.a, [world.member])
    sent = [await send(chat, world.owner, room["chatId"], f"m{i}") for i in range(1, 8)]
    path = f"/api/chats/messages/{room['chatId']}"

    async def page(query: str) -> list[int]:
        response = await chat.get(f"{path}?{query}", headers=world.member.headers)
        assert response.status_code == 200, response.text
        assert response.json()["success"] is True
        return [m["seq"] for m in response.json()["message"]]

    assert await page("limit=3") == [5, 6, 7]
    assert await page("limit=3&before=5") == [2, 3, 4]
    assert await page(f"limit=3&before={sent[4]['messageId']}") == [2, 3, 4]
    assert await page("limit=3&after=2") == [3, 4, 5]
    assert await page("after=6") == [7]
    assert await page("limit=50&offset=0") == [1, 2, 3, 4, 5, 6, 7]  # offset: ignored
    bad = await chat.get(f"{path}?before=yesterday", headers=world.member.headers)
    assert_error(bad, 400, "VALIDATION_ERROR")
    assert_error(
        await chat.get(f"{path}?limit=101", headers=world.member.headers), 400, "VALIDATION_ERROR"
    )


async def test_edit_delete_and_reactions(chat: Client, world: World) -> None:
    room = await create_chat(chat, world.owner, world.a, [world.member])
    message = await send(chat, world.owner, room["chatId"], "typo")
    path = f"/api/chats/messages/{message['messageId']}"
    not_mine = await chat.put(path, json={"content": "x"}, headers=world.member.headers)
    assert_error(not_mine, 403, "FORBIDDEN")
    edited = await chat.put(path, json={"content": "fixed"}, headers=world.owner.headers)
    assert edited.status_code == 200, edited.text
    assert edited.json()["message"]["content"] == "fixed"
    react = await chat.post(f"{path}/reactions", json={"emoji": "👍"}, headers=world.member.headers)
    assert react.status_code == 200, react.text
    history = await chat.get(f"/api/chats/messages/{room['chatId']}", headers=world.owner.headers)
    reactions = history.json()["message"][0]["reactions"]
    assert reactions == [{"emoji": "👍", "count": 1, "userIds": [world.member.user_id]}]
    gone = await chat.delete(f"{path}/reactions/👍", headers=world.member.headers)
    assert gone.status_code == 204
    assert_error(
        await chat.delete(f"{path}/reactions/👍", headers=world.member.headers), 404, "NOT_FOUND"
    )
    assert_error(await chat.delete(path, headers=world.member.headers), 403, "FORBIDDEN")
    assert (await chat.delete(path, headers=world.owner.headers)).status_code == 204
    history = await chat.get(f"/api/chats/messages/{room['chatId']}", headers=world.owner.headers)
    assert history.json()["message"] == []


async def test_read_marks_only_for_messages_the_caller_sees(
    chat: Client, world: World, db_chat: Any
) -> None:
    room = await create_chat(chat, world.owner, world.a, [world.member])
    hidden = await create_chat(chat, world.owner, world.a, [world.admin], name="Hidden")
    mine = [await send(chat, world.owner, room["chatId"], f"m{i}") for i in range(3)]
    secret = await send(chat, world.owner, hidden["chatId"], "secret")
    unread = f"/api/chats/messages/{room['chatId']}/unread"
    counted = await chat.get(unread, headers=world.member.headers)
    assert counted.json() == {"success": True, "data": {"unreadCount": 3}}
    refused = await chat.post(
        "/api/chats/messages/read",
        json={"messageIds": [mine[2]["messageId"], secret["messageId"]]},
        headers=world.member.headers,
    )
    assert_error(refused, 404, "NOT_FOUND")
    assert (await chat.get(unread, headers=world.member.headers)).json()["data"] == {
        "unreadCount": 3
    }
    marked = await chat.post(
        "/api/chats/messages/read",
        json={"messageIds": [mine[1]["messageId"]]},
        headers=world.member.headers,
    )
    assert marked.json() == {"success": True, "message": "Messages marked as read"}
    assert (await chat.get(unread, headers=world.member.headers)).json()["data"] == {
        "unreadCount": 1
    }
    # never backwards
    await chat.post(
        "/api/chats/messages/read",
        json={"messageIds": [mine[0]["messageId"]]},
        headers=world.member.headers,
    )
    cur = await db_chat.execute(
        "SELECT last_read_seq FROM chat_participants WHERE chat_id = %s AND user_id = %s",
        (room["chatId"], world.member.user_id),
    )
    assert (await cur.fetchone())[0] == 2
    all_read = await chat.put(
        f"/api/chats/messages/{room['chatId']}/last-read", headers=world.member.headers
    )
    assert all_read.json() == {"success": True, "message": "Last read updated"}
    assert (await chat.get(unread, headers=world.member.headers)).json()["data"] == {
        "unreadCount": 0
    }
    assert_error(await chat.get(unread, headers=world.admin.headers), 403, "FORBIDDEN")


async def test_search_finds_korean_substrings_in_my_chats_only(chat: Client, world: World) -> None:
    room = await create_chat(chat, world.owner, world.a, [world.member])
    hidden = await create_chat(chat, world.owner, world.a, [world.admin], name="Hidden")
    await send(chat, world.owner, room["chatId"], "내일 회의는 오후 세시에 시작합니다")
    await send(chat, world.owner, room["chatId"], "100% sure_thing")
    await send(chat, world.owner, hidden["chatId"], "회의록은 비밀입니다")

    async def found(who: Any, q: str, **extra: str) -> list[str]:
        response = await chat.get(
            "/api/chats/messages/search", params={"q": q, **extra}, headers=who.headers
        )
        assert response.status_code == 200, response.text
        return [m["content"] for m in response.json()["message"]]

    assert await found(world.member, "회의") == ["내일 회의는 오후 세시에 시작합니다"]
    assert await found(world.member, "세시") == ["내일 회의는 오후 세시에 시작합니다"]
    assert await found(world.owner, "회의") == [
        "회의록은 비밀입니다",
        "내일 회의는 오후 세시에 시작합니다",
    ]
    assert await found(world.member, "%") == ["100% sure_thing"]  # wildcards are literal
    assert await found(world.member, "_t") == ["100% sure_thing"]
    assert await found(world.member, "회의", workspaceId=world.a) != []
    assert await found(world.outsider, "회의") == []
    other = await chat.get(
        "/api/chats/messages/search",
        params={"q": "회의", "workspaceId": world.a},
        headers=world.other_admin.headers,
    )
    assert_error(other, 404, "NOT_FOUND")


# --- sends written together -------------------------------------------------------------


async def at_once(client: Client, sends: list[tuple[Actor, str, SendMessage]]) -> list[Any]:
    """``sends`` handed to the app's writer in one loop turn, as the sockets of a process
    do (every send of a turn reaches the same batch): each one's answer or error."""
    ctx = client.app.state["contexts"]["chat"]

    async def run() -> list[Any]:
        return await asyncio.gather(
            *(
                do_send(ctx, UUID(who.user_id), UUID(chat_id), new, admitted=True)
                for who, chat_id, new in sends
            ),
            return_exceptions=True,
        )

    found: list[Any] = await asyncio.to_thread(client.blocking_portal.call, run)
    return found


@contextlib.asynccontextmanager
async def refusing(db_chat: Any, word: str) -> AsyncIterator[None]:
    """A constraint that refuses messages containing ``word`` (NOT VALID: old rows stay)."""
    await db_chat.execute(
        f"ALTER TABLE messages ADD CONSTRAINT test_refuses_{word}"
        f" CHECK (position('{word}' in content) = 0) NOT VALID"
    )
    try:
        yield
    finally:
        await db_chat.execute(f"ALTER TABLE messages DROP CONSTRAINT test_refuses_{word}")


async def stored(db_chat: Any, chat_id: str) -> list[tuple[int, str, str | None]]:
    cur = await db_chat.execute(
        "SELECT seq, content, client_message_id FROM messages WHERE chat_id = %s ORDER BY seq",
        (chat_id,),
    )
    return list(await cur.fetchall())


async def test_one_client_id_repeated_in_a_batch_is_stored_once(
    chat: Client, world: World, db_chat: Any
) -> None:
    room = await create_chat(chat, world.owner, world.a, [world.member])
    chat_id = room["chatId"]
    same = SendMessage(content="once", client_message_id="dup-1")
    other = SendMessage(content="not the same", client_message_id="dup-1")
    answers = await at_once(
        chat,
        [(world.owner, chat_id, same)] * 6
        + [(world.owner, chat_id, other), (world.member, chat_id, same)],
    )
    firsts = answers[:6]
    assert all(isinstance(a, tuple) for a in firsts), firsts
    assert len({(a[0].message_id, a[0].seq) for a in firsts}) == 1
    assert [a[1] for a in firsts] == [True] + [False] * 5  # new once, then the stored one
    assert isinstance(answers[6], ClientIdReused)
    assert isinstance(answers[7], tuple) and answers[7][1]  # another author's own id
    assert await stored(db_chat, chat_id) == [(1, "once", "dup-1"), (2, "once", "dup-1")]
    # and across batches: the stored message, never a second row
    again = await at_once(chat, [(world.owner, chat_id, same), (world.owner, chat_id, other)])
    assert isinstance(again[0], tuple) and again[0][0].message_id == firsts[0][0].message_id
    assert again[0][1] is False
    assert isinstance(again[1], ClientIdReused)
    assert len(await stored(db_chat, chat_id)) == 2


async def test_a_refused_message_fails_alone_and_leaves_no_gap(
    chat: Client, world: World, db_chat: Any
) -> None:
    one = await create_chat(chat, world.owner, world.a, [world.member], name="one")
    two = await create_chat(chat, world.owner, world.a, [world.admin], name="two")
    plan = [
        (world.owner, one["chatId"], SendMessage(content="a1")),
        (world.member, one["chatId"], SendMessage(content="a2 poison", client_message_id="p")),
        (world.admin, two["chatId"], SendMessage(content="b1")),
        (world.member, one["chatId"], SendMessage(content="a3", client_message_id="p")),
        (world.owner, one["chatId"], SendMessage(content="a4")),
        (world.admin, two["chatId"], SendMessage(content="b2 poison")),
    ]
    async with refusing(db_chat, "poison"):
        answers = await at_once(chat, plan)
        path = f"/api/chats/messages/{two['chatId']}"
        over_rest = await chat.post(path, json={"content": "poison"}, headers=world.owner.headers)
    assert isinstance(answers[1], MessageRefused) and isinstance(answers[5], MessageRefused)
    # the refused send's client id stays free: the next send with it is stored
    assert isinstance(answers[3], tuple) and answers[3][0].content == "a3"
    assert_error(over_rest, 422, "MESSAGE_REFUSED")
    assert [s[1] for s in await stored(db_chat, one["chatId"])] == ["a1", "a4", "a3"]
    assert await stored(db_chat, two["chatId"]) == [(1, "b1", None)]
    for chat_id, count in ((one["chatId"], 3), (two["chatId"], 1)):
        cur = await db_chat.execute(
            "SELECT last_seq, last_rev, (SELECT count(*) FROM chat_events WHERE chat_id = c.id)"
            " FROM chats c WHERE id = %s",
            (chat_id,),
        )
        assert await cur.fetchone() == (count, count, count)  # gapless, an event each
    acked = [a[0].seq for a in answers if isinstance(a, tuple)]
    assert sorted(acked) == [1, 1, 2, 3]
