"""Presence across two chat processes: pushed to the workspace's presence sockets when it
changes, counted per connection, AWAY when idle, OFFLINE when the last socket closes or
stops answering; offline and mentioned participants are notified through the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from websockets.exceptions import ConnectionClosed

from tests.chat.support import Socket, assert_error, create_chat, open_socket, send
from tests.user.support import World
from wealist.chat.actions.presence import presence_of
from wealist.chat.ws.common import Connection

pytestmark = pytest.mark.slow

PRESENCE = "/api/chats/ws/presence"


async def status_of(sock: Socket, user: str) -> str:
    """The next USER_STATUS frame about ``user``."""
    while True:
        frame = await sock.recv_type("USER_STATUS")
        if frame["userId"] == user:
            assert set(frame) == {"type", "userId", "workspaceId", "status", "lastSeen"}
            return str(frame["status"])


async def test_status_changes_reach_other_instances_per_connection(
    chat_process: Any, world: World
) -> None:
    a = await chat_process(presence_away_s=600)
    b = await chat_process(presence_away_s=600)
    ws = f"&workspaceId={world.a}"
    async with open_socket(b.ws_url, PRESENCE, world.member, ws) as watcher:
        await watcher.ready()
        async with open_socket(a.ws_url, PRESENCE, world.owner, ws) as first:
            await first.ready()
            assert await status_of(watcher, world.owner.user_id) == "ONLINE"
            async with open_socket(b.ws_url, PRESENCE, world.owner, ws) as second:
                await second.ready()
                async with httpx.AsyncClient(base_url=a.url) as http:
                    online = await http.get(
                        "/api/chats/presence/online",
                        params={"workspaceId": world.a},
                        headers=world.member.headers,
                    )
                    assert online.status_code == 200, online.text
                    assert {p["userId"] for p in online.json()["message"]} == {
                        world.owner.user_id,
                        world.member.user_id,
                    }
                    one = await http.get(
                        f"/api/chats/presence/status/{world.owner.user_id}",
                        headers=world.member.headers,
                    )
                    assert one.json()["message"]["status"] == "ONLINE"
                    assert one.json()["message"]["workspaceId"] == world.a
                    hidden = await http.get(
                        f"/api/chats/presence/status/{world.owner.user_id}",
                        headers=world.other_admin.headers,
                    )
                    assert_error(hidden, 404, "NOT_FOUND")
                    foreign = await http.get(
                        "/api/chats/presence/online",
                        params={"workspaceId": world.a},
                        headers=world.other_admin.headers,
                    )
                    assert_error(foreign, 404, "NOT_FOUND")
            # one tab closed, one still open: still ONLINE, nothing announced
            await first.send({"type": "heartbeat"})
            assert (await first.recv_type("pong")) == {"type": "pong"}
        assert await status_of(watcher, world.owner.user_id) == "OFFLINE"


@contextlib.asynccontextmanager
async def keepalive(sock: Socket) -> AsyncIterator[None]:
    """Heartbeats (not activity) every half second, as a browser tab does."""

    async def beat() -> None:
        while True:
            await sock.send({"type": "heartbeat"})
            await asyncio.sleep(0.5)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
            await task


async def test_idle_users_turn_away_and_silent_sockets_are_dropped(
    chat_process: Any, world: World
) -> None:
    proc = await chat_process(
        presence_away_s=1.0, presence_sweep_s=0.1, ws_client_timeout_s=4, presence_lease_s=30
    )
    ws = f"&workspaceId={world.a}"
    async with (
        open_socket(proc.ws_url, PRESENCE, world.member, ws) as watcher,
        keepalive(watcher),
    ):
        # Its first statuses sent (they come before the pong): the owner's ONLINE can
        # then only come as the announcement, not also in a late snapshot.
        await watcher.ready()
        async with open_socket(proc.ws_url, PRESENCE, world.owner, ws) as idle:
            assert await status_of(watcher, world.owner.user_id) == "ONLINE"
            assert await status_of(watcher, world.owner.user_id) == "AWAY"
            # never answers: closed with 4408 and announced OFFLINE
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await idle.ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408
            assert await status_of(watcher, world.owner.user_id) == "OFFLINE"
        async with (
            open_socket(proc.ws_url, PRESENCE, world.owner, ws) as active,
            keepalive(active),
        ):
            assert await status_of(watcher, world.owner.user_id) == "ONLINE"
            assert await status_of(watcher, world.owner.user_id) == "AWAY"
            await active.send({"type": "heartbeat", "active": True})
            assert await status_of(watcher, world.owner.user_id) == "ONLINE"


async def test_messages_reach_presence_sockets_and_the_outbox(
    chat_process: Any, world: World, db_chat: Any
) -> None:
    proc = await chat_process()
    async with httpx.AsyncClient(base_url=proc.url) as http:
        room = await create_chat(http, world.owner, world.a, [world.member, world.admin])
        async with open_socket(proc.ws_url, PRESENCE, world.member) as member:
            await member.ready()  # default scope: the workspaces the member chats in
            message = await send(
                http, world.owner, room["chatId"], "hi @admin", mentions=[world.admin.user_id]
            )
            note = await member.recv_type("NEW_MESSAGE_NOTIFICATION")
            assert note["chatId"] == room["chatId"]
            assert note["workspaceId"] == world.a
            assert note["message"]["messageId"] == message["messageId"]
        cur = await db_chat.execute(
            "SELECT payload::text FROM outbox WHERE event_type = 'notification.requested'"
            " AND payload->>'resourceId' = %s",
            (room["chatId"],),
        )
        events = [json.loads(r[0]) for r in await cur.fetchall()]
        # the member was online (no notification); the admin was mentioned
        assert [(e["type"], e["targetUserId"]) for e in events] == [
            ("CHAT_MENTIONED", world.admin.user_id)
        ]
        assert events[0]["actorId"] == world.owner.user_id
        assert events[0]["metadata"]["messageId"] == message["messageId"]
        await send(http, world.owner, room["chatId"], "anyone?")
        cur = await db_chat.execute(
            "SELECT payload->>'type', payload->>'targetUserId' FROM outbox"
            " WHERE payload->>'resourceId' = %s ORDER BY id",
            (room["chatId"],),
        )
        rows = await cur.fetchall()
        assert sorted(rows[1:]) == sorted(
            [("CHAT_MESSAGE", world.member.user_id), ("CHAT_MESSAGE", world.admin.user_id)]
        )


async def _commands(redis: Redis) -> dict[str, int]:
    """Redis's per-command call counts (``INFO`` itself left out)."""
    stats = await redis.info("commandstats")
    return {
        name.removeprefix("cmdstat_"): int(value["calls"])
        for name, value in stats.items()
        if name != "cmdstat_info"
    }


async def test_presence_of_many_sockets_travels_in_one_round_trip(
    app_client: Callable[..., Any], users: httpx.AsyncClient, redis: Redis
) -> None:
    """200 sockets opening, renewing and being looked up at once: their counts go in one
    round trip, then their presence in one, their renewals (count and presence) in one,
    and every status read in one - never a connection per socket. Redis's own counts
    show each socket's commands and nothing more."""
    settings = {"presence_sweep_s": 0, "presence_lease_s": 0.3, "presence_redis_connections": 2}
    async with app_client("chat", user_service_url=str(users.base_url), **settings) as chat:
        ctx = chat.app.state["contexts"]["chat"]
        workspaces = [str(uuid.uuid4()) for _ in range(4)]
        conns = [Connection(ctx, str(uuid.uuid4()), [workspaces[n % 4]]) for n in range(200)]

        async def scenario() -> dict[str, int]:
            batch = presence_of(ctx).batch
            trips: dict[str, int] = {}
            start = batch.round_trips
            assert all(await asyncio.gather(*(c.open() for c in conns)))
            trips["open"] = batch.round_trips - start
            await asyncio.sleep(0.15)  # past a third of the lease: the next frame renews
            start, sent = batch.round_trips, batch.commands
            for conn in conns:
                conn.heard_from_client(active=False)
            for _ in range(1000):  # the renewals run in tasks of their own
                if batch.commands - sent >= 400:
                    break
                await asyncio.sleep(0.01)
            trips["renew"] = batch.round_trips - start
            start = batch.round_trips
            asked = [(w, [c.user for c in conns if c.workspaces == [w]]) for w in workspaces]
            found = await presence_of(ctx).statuses_many(asked)
            assert [set(s) for s in found] == [{"ONLINE"}] * 4
            trips["statuses"] = batch.round_trips - start
            return trips

        async def warm_up() -> None:  # Redis learns the scripts (a first EVALSHA is refused)
            first = Connection(ctx, str(uuid.uuid4()), [workspaces[0]])
            assert await first.open()
            await first.close()

        await asyncio.to_thread(chat.blocking_portal.call, warm_up)
        before = await _commands(redis)
        trips = await asyncio.to_thread(chat.blocking_portal.call, scenario)
        after = await _commands(redis)
    assert trips == {"open": 2, "renew": 1, "statuses": 1}
    delta = {name: n - before.get(name, 0) for name, n in after.items()}
    # open: a count and a touch per socket; renew: the same again; 4 status reads
    assert delta["evalsha"] == 800, delta
    assert delta["hmget"] == 4, delta
