"""Hot chat routes run a fixed number of queries, however many chats and messages; sends
made together share a few transactions (group commit)."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.chat.support import create_chat, send
from tests.chat.test_messages import at_once
from tests.user.support import World
from wealist.chat.schemas import SendMessage

Client = AsyncTestClient[Litestar]


async def round_trips(
    client: Client, method: str, path: str, headers: dict[str, str], **kw: object
) -> int:
    database = client.app.state["contexts"]["chat"].database
    before = database.calls
    response = await client.request(method, path, headers=headers, **kw)  # type: ignore[arg-type]
    assert response.status_code < 300, response.text
    return int(database.calls - before)


async def test_my_chats_is_one_query_for_fifty_chats(chat: Client, world: World) -> None:
    first = await create_chat(chat, world.owner, world.a, [world.member], name="chat 0")
    await send(chat, world.owner, first["chatId"], "hello")
    assert await round_trips(chat, "GET", "/api/chats/my", world.member.headers) == 1
    for n in range(1, 50):
        room = await create_chat(chat, world.owner, world.a, [world.member], name=f"chat {n}")
        await send(chat, world.owner, room["chatId"], "hello")
    listed = await chat.get("/api/chats/my", headers=world.member.headers)
    assert len(listed.json()["message"]) == 50
    assert {c["unreadCount"] for c in listed.json()["message"]} == {1}
    assert await round_trips(chat, "GET", "/api/chats/my", world.member.headers) == 1
    path = f"/api/chats/workspace/{world.a}"
    assert await round_trips(chat, "GET", path, world.member.headers) == 1


async def test_history_and_send_are_bounded(chat: Client, world: World) -> None:
    room = await create_chat(chat, world.owner, world.a, [world.member])
    for i in range(30):
        await send(chat, world.owner, room["chatId"], f"m{i}")
    path = f"/api/chats/messages/{room['chatId']}"
    assert await round_trips(chat, "GET", path, world.member.headers) == 2
    assert await round_trips(chat, "GET", f"{path}?after=10", world.member.headers) == 2
    # seat; then the writer's batch: what is stored already, the chat locked, the message
    # with its event and seq, the outbox row (the member is offline)
    body = {"content": "budget", "clientMessageId": "b-1"}
    assert await round_trips(chat, "POST", path, world.owner.headers, json=body) == 5
    assert await round_trips(chat, "POST", path, world.owner.headers, json=body) == 2  # a retry


async def test_concurrent_sends_to_one_chat_share_a_few_transactions(
    chat: Client, world: World
) -> None:
    room = await create_chat(chat, world.owner, world.a, [world.member, world.admin])
    ctx = chat.app.state["contexts"]["chat"]
    writer = ctx.state["chat_writer"]
    people = [world.owner, world.member, world.admin]
    n = 48
    calls, batches = ctx.database.calls, writer.batches
    answers = await at_once(
        chat, [(people[i % 3], room["chatId"], SendMessage(content=f"m{i}")) for i in range(n)]
    )
    assert sorted(a[0].seq for a in answers) == list(range(1, n + 1))
    # Each send alone took a transaction of 4 statements (5 with its seat check); together
    # they took one or two batches of 4: what is stored already, the lock, the rows, the
    # outbox.
    taken = writer.batches - batches
    assert 1 <= taken <= 2
    assert ctx.database.calls - calls == 4 * taken
