"""The chat sockets' heartbeat checks, done for every due socket of a process at once:
one query per tick however many sockets, a revoked seat closes only its sockets, a
failed tick closes none and is retried, a socket that missed the last event catches up.

The checker is driven here as the sockets drive it (``due`` at a heartbeat), on the loop
of the real chat app run in-process (its database and Redis pools live there), with a
real user service for memberships; the last test goes through real sockets of a real
``wealist serve chat``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from uuid import UUID

import httpx
import pytest
import structlog
from litestar import Litestar
from litestar.testing import AsyncTestClient
from websockets.exceptions import ConnectionClosed

from tests.chat.support import Socket, create_chat, open_socket, send
from tests.core.realtime.waiting import eventually
from tests.plugins.faultproxy import FaultProxy
from tests.plugins.harness import Environment
from tests.user.support import Actor, World, member_id_of
from wealist.chat.sequencer import ChatSubscriber
from wealist.chat.ws.checks import SocketCheck, SocketChecks, checks_of
from wealist.core.context import ServiceContext

Client = AsyncTestClient[Litestar]
FORBIDDEN = 4403


async def on_app(client: Client, fn: Any, *args: Any) -> Any:
    """Run ``fn(*args)`` on the in-process app's own event loop."""
    return await asyncio.to_thread(client.blocking_portal.call, fn, *args)


def context_of(client: Client) -> ServiceContext:
    found = client.app.state["contexts"]["chat"]
    assert isinstance(found, ServiceContext)
    return found


class FakeSocket:
    """One socket as the checker sees it: a real subscriber that has delivered every
    event up to ``seen``, and the gap reads its catch-up asks for."""

    def __init__(self, chat_id: str, user: Actor, seen: int) -> None:
        self.reads: list[tuple[int, int]] = []
        self.sub = ChatSubscriber(64, self.fill, 0.05)
        self.sub.release(seen, [], queue=True)
        self.check = SocketCheck(UUID(chat_id), UUID(user.user_id), self.sub)
        self.user = user

    async def fill(self, since: int, upto: int) -> tuple[int, list[tuple[int, str]]]:
        self.reads.append((since, upto))
        return upto, []

    @property
    def closed_with(self) -> int | None:
        return self.sub.close_code if self.sub.closed.is_set() else None


async def rooms(client: Client, world: World, count: int) -> list[str]:
    """Chats of A's owner, admin and member, one message in each (their last rev is 1)."""
    found = []
    for n in range(count):
        room = await create_chat(client, world.owner, world.a, [world.admin, world.member])
        await send(client, world.owner, room["chatId"], f"hello {n}")
        found.append(room["chatId"])
    return found


async def sockets_of(
    client: Client, chats: list[str], world: World, per_user: int, seen: int = 1
) -> list[FakeSocket]:
    """``per_user`` sockets of the owner, the admin and the member in each chat, made on
    the app's loop."""
    people = (world.owner, world.admin, world.member)

    async def make() -> list[FakeSocket]:
        return [FakeSocket(c, p, seen) for c in chats for p in people for _ in range(per_user)]

    found: list[FakeSocket] = await on_app(client, make)
    return found


async def tick(client: Client, checks: SocketChecks, sockets: list[FakeSocket]) -> None:
    """The sockets' heartbeats say they are due, then the checker's tick runs."""

    async def run() -> None:
        for socket in sockets:
            checks.due(socket.check)
        await checks.run_once()

    await on_app(client, run)


async def test_due_checks_of_many_sockets_cost_one_query_per_tick(
    chat: Client, world: World
) -> None:
    ctx = context_of(chat)
    checks = checks_of(ctx)
    chats = await rooms(chat, world, 4)
    current = await sockets_of(chat, chats[:3], world, per_user=4)  # 36 sockets up to date
    behind = await sockets_of(chat, chats[3:], world, per_user=4, seen=0)  # 12 missed message 1
    for sockets in (current + behind, current[:2]):
        calls, ticks, checked = ctx.database.calls, checks.ticks, checks.checked
        await tick(chat, checks, sockets)
        assert ctx.database.calls - calls == 1  # one SELECT for 48 sockets, and for 2
        assert (checks.ticks - ticks, checks.checked - checked) == (1, len(sockets))
    assert all(s.closed_with is None for s in current + behind)
    assert all(s.reads == [] for s in current)
    # the ones behind read what they missed once the grace for frames in flight passed
    await eventually(lambda: all(s.sub.delivered == 1 for s in behind))
    assert all(s.reads == [(0, 1)] for s in behind)


async def test_a_revoked_seat_closes_only_its_own_sockets(
    chat: Client, users: httpx.AsyncClient, world: World, db_chat: Any
) -> None:
    ctx = context_of(chat)
    checks = checks_of(ctx)
    first, second = await rooms(chat, world, 2)
    sockets = await sockets_of(chat, [first, second], world, per_user=3)
    # The admin's seat in the first chat ends without any event (nothing but the check
    # can notice it): only those 3 sockets close, the admin's sockets of the other chat
    # and everyone else's stay.
    await db_chat.execute(
        "UPDATE chat_participants SET is_active = false WHERE chat_id = %s AND user_id = %s",
        (first, world.admin.user_id),
    )
    calls = ctx.database.calls
    await tick(chat, checks, sockets)
    assert ctx.database.calls - calls == 1
    closed = [s for s in sockets if s.closed_with is not None]
    assert {(s.check.chat_id, s.user.name) for s in closed} == {(UUID(first), "admin")}
    assert len(closed) == 3 and {s.closed_with for s in closed} == {FORBIDDEN}
    # The member leaves workspace A (the user service updates the cached answer): every
    # socket of the member closes at the next tick, nobody else's.
    member_id = await member_id_of(users, world.owner, world.a, world.member)
    removed = await users.delete(
        f"/api/workspaces/{world.a}/members/{member_id}", headers=world.owner.headers
    )
    assert removed.status_code == 200, removed.text
    alive = [s for s in sockets if s.closed_with is None]
    await tick(chat, checks, alive)
    closed = [s for s in alive if s.closed_with is not None]
    assert {s.user.name for s in closed} == {"member"} and len(closed) == 6
    assert all(s.closed_with is None for s in alive if s.user.name != "member")


@pytest.fixture
async def flaky_chat(
    app_client: Callable[..., Any],
    users: httpx.AsyncClient,
    environment: Environment,
    fault_proxy: Callable[[str], FaultProxy],
) -> Any:
    """The chat app with its database behind a fault proxy (and the proxy)."""
    url = environment.databases["chat"]
    proxy = fault_proxy(url)
    async with app_client(
        "chat",
        user_service_url=str(users.base_url),
        database_url=proxy.proxied(url),
        db_pool_timeout_s=1.0,
    ) as client:
        yield client, proxy


async def test_a_failed_tick_closes_nothing_says_so_once_and_is_retried(
    flaky_chat: tuple[Client, FaultProxy], world: World
) -> None:
    chat, proxy = flaky_chat
    ctx = context_of(chat)
    checks = checks_of(ctx)
    chats = await rooms(chat, world, 2)
    sockets = await sockets_of(chat, chats, world, per_user=2)
    proxy.down()
    failed, checked = checks.failed_ticks, checks.checked
    with structlog.testing.capture_logs() as logs:
        await tick(chat, checks, sockets)
    assert checks.failed_ticks - failed == 1
    assert all(s.closed_with is None for s in sockets)
    lines = [e for e in logs if e["event"] == "chat.socket_checks_failed"]
    assert [line["sockets"] for line in lines] == [len(sockets)]
    proxy.heal()
    # Nobody asked again: the failed ones were put back for the next tick.
    await eventually(lambda: checks.checked - checked == len(sockets), timeout=20)
    assert all(s.closed_with is None for s in sockets)


async def _closed_code(sock: Socket) -> int | None:
    try:
        while True:
            await sock.recv(timeout=20)
    except ConnectionClosed as closed:
        return None if closed.rcvd is None else closed.rcvd.code


@pytest.mark.slow
async def test_real_sockets_a_seat_revoked_among_many_closes_only_its_sockets(
    chat_process: Any, world: World, db_chat: Any
) -> None:
    proc = await chat_process(ws_heartbeat_s=0.5)
    async with httpx.AsyncClient(base_url=proc.url) as http:
        room = await create_chat(http, world.owner, world.a, [world.admin, world.member])
        path = f"/api/chats/ws/{room['chatId']}"
        people = [world.owner, world.admin, world.member] * 3
        opened = [open_socket(proc.ws_url, path, who) for who in people]
        sockets = [await o.__aenter__() for o in opened]
        try:
            for sock in sockets:
                await sock.ready()
            await db_chat.execute(
                "UPDATE chat_participants SET is_active = false "
                "WHERE chat_id = %s AND user_id = %s",
                (room["chatId"], world.admin.user_id),
            )
            admins = [s for s, who in zip(sockets, people, strict=True) if who is world.admin]
            codes = await asyncio.gather(*(_closed_code(s) for s in admins))
            assert codes == [FORBIDDEN] * 3
            await send(http, world.owner, room["chatId"], "still here")
            for sock, who in zip(sockets, people, strict=True):
                if who is world.admin:
                    continue
                got = await sock.recv_type("MESSAGE_RECEIVED")
                assert got["message"]["content"] == "still here"
                await sock.ready()
        finally:
            for o in opened:
                await o.__aexit__(None, None, None)
