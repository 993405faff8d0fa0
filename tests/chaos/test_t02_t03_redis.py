"""T02 and T03 (reliability.md): Redis goes away under a stream of chat messages.

T02: the Redis every process shares crashes and comes back empty (SIGKILL, no
persistence) while messages flow to two chat processes; one chat goes quiet right after
the restart. T03: one process's Redis link is stalled (a partition) while the other runs
on, then healed.

Pass: every acked message is stored once, every socket's transcript is 1..N with no
duplicate, gap or reset (the quiet chat's last message included: the heartbeat's tail
check finds it); each process resubscribed on the new Redis without a restart (T02); the
partitioned process reports not-ready and refuses tokens it cannot check for revocation
(fail closed), and its sockets catch up after the heal (T03).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from tests.chaos.clients import FollowingSocket
from tests.chaos.conftest import Cluster, Node, OwnRedis, size
from tests.chaos.test_t01_kill import chat_url
from tests.chat.support import create_chat
from tests.core.realtime.waiting import eventually
from tests.user.support import Actor, World
from wealist.contracts import topics

pytestmark = pytest.mark.slow

CHAT = {"ws_heartbeat_s": 1, "gap_wait_s": 0.05, "tail_cache_s": 0.2, "ws_messages_per_s": 1000}


class RestSender:
    """Posts messages with a clientMessageId, retrying each (on the other process too)
    until it is acked with 201; records every refusal it met."""

    def __init__(self, actor: Actor, nodes: list[Node]) -> None:
        self.actor = actor
        self.nodes = nodes
        self.acks: dict[str, tuple[str, int]] = {}
        self.refusals: dict[int | str, int] = {}
        self._turn = itertools.cycle(range(len(nodes)))

    async def send(self, http: httpx.AsyncClient, chat_id: str, client_id: str) -> None:
        body = {"content": f"message {client_id}", "clientMessageId": client_id}
        while True:
            node = self.nodes[next(self._turn)]
            try:
                r = await http.post(
                    f"{node.url}/api/chats/messages/{chat_id}",
                    json=body,
                    headers=self.actor.headers,
                    timeout=15,
                )
            except httpx.TransportError as exc:
                self.refusals[type(exc).__name__] = self.refusals.get(type(exc).__name__, 0) + 1
            else:
                if r.status_code == 201:
                    self.acks[client_id] = (r.json()["messageId"], r.json()["seq"])
                    return
                assert r.status_code in (401, 503), r.text  # fail closed, never a 500
                self.refusals[r.status_code] = self.refusals.get(r.status_code, 0) + 1
            await asyncio.sleep(0.1)


async def stored(database: Any, chat_id: str) -> list[tuple[int, str, str]]:
    async with database("chat") as db:
        cur = await db.execute(
            "SELECT seq, client_message_id, id::text FROM messages WHERE chat_id = %s ORDER BY seq",
            (chat_id,),
        )
        return await cur.fetchall()


def audit(rows: list[tuple[int, str, str]], acks: dict[str, tuple[str, int]]) -> None:
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert {r[1]: (r[2], r[0]) for r in rows} == acks


def clean(socket: FollowingSocket, last: int) -> None:
    transcript = socket.transcript
    seen = f"{transcript} after {socket.reconnects} reconnects"  # the whole story on failure
    assert transcript.duplicates == [], seen
    assert transcript.gaps == [], seen
    assert transcript.resets == [], seen
    assert transcript.seqs == list(range(1, last + 1)), seen


async def test_t02_redis_crashes_and_returns_empty_during_fan_out(
    cluster: Cluster, own_redis: OwnRedis, world: World, database: Any, report: Any
) -> None:
    total, rate = size(60, 5000), size(15, 100)  # messages, per second
    # auth reloads the revocation marker a flushed Redis lost; until then every service
    # refuses every token (fail closed), and senders retry.
    await cluster.start("auth", redis_url=own_redis.url)
    a = await cluster.start("chat", redis_url=own_redis.url, **CHAT)
    b = await cluster.start("chat", redis_url=own_redis.url, **CHAT)
    nodes, procs = [a, b], [a.proc, b.proc]
    async with httpx.AsyncClient(base_url=a.url, timeout=15) as http:
        busy = (await create_chat(http, world.owner, world.a, [world.member]))["chatId"]
        quiet = (await create_chat(http, world.owner, world.a, [world.admin]))["chatId"]
    sockets = {
        (chat, who.name, home): FollowingSocket(chat_url(who, chat), procs, home=home).start()
        for chat, who in ((busy, world.member), (quiet, world.admin))
        for home in (0, 1)
    }
    sender = RestSender(world.owner, nodes)
    restarted_at = 0.0
    try:
        for socket in sockets.values():
            await asyncio.wait_for(socket.connected.wait(), 30)
        async with httpx.AsyncClient() as http:
            for i in range(total):
                if i == total // 3:
                    own_redis.restart()
                    restarted_at = time.monotonic()
                    await sender.send(http, quiet, "quiet-after-restart")
                await sender.send(http, busy, f"busy-{i}")
                await asyncio.sleep(1 / rate)
        sent_s = time.monotonic() - restarted_at
        busy_rows, quiet_rows = await stored(database, busy), await stored(database, quiet)
        wanted = {busy: len(busy_rows), quiet: len(quiet_rows)}
        await eventually(
            lambda: all(s.transcript.last == wanted[c] for (c, _, _), s in sockets.items()),
            timeout=60,
        )
        caught_up_s = time.monotonic() - restarted_at
        async with Redis.from_url(own_redis.url) as fresh:
            subscribed = await fresh.pubsub_numsub(topics.chat(busy), topics.chat(quiet))
    finally:
        for socket in sockets.values():
            await socket.stop()

    assert own_redis.restarts == 1
    assert a.alive and b.alive  # no process was restarted to recover
    # Both processes subscribed both topics again on the new, empty Redis.
    assert [n for _, n in subscribed] == [2, 2]
    acks = sender.acks
    audit(busy_rows, {k: v for k, v in acks.items() if k.startswith("busy")})
    audit(quiet_rows, {k: v for k, v in acks.items() if k.startswith("quiet")})
    assert len(busy_rows) == total
    for (chat, _, _), socket in sockets.items():
        clean(socket, wanted[chat])
    report(
        "T02",
        messages=total + 1,
        rate_per_s=rate,
        refused_sends=sender.refusals,
        socket_reconnects=sum(s.reconnects for s in sockets.values()),
        every_socket_complete_s_after_restart=round(caught_up_s, 2),
        sending_after_restart_s=round(sent_s, 2),
        lost=0,
        duplicates=0,
    )


async def test_t03_one_process_partitioned_from_redis_then_healed(
    cluster: Cluster, world: World, database: Any, report: Any
) -> None:
    # Longer than a Redis command's bound (2 s socket timeout, 3 tries): the
    # partitioned process must give up on Redis, not just wait the partition out.
    # A send that reaches the cut-off process in the first seconds is verified (its
    # revocation list is current until its check finds the link dead) and then waits on
    # Redis for ~10 s: the partition outlasts that, so later sends meet the refusal.
    partition_s = size(14, 30)
    a = await cluster.start("chat", **CHAT)
    b = await cluster.start("chat", **CHAT)
    procs = [a.proc, b.proc]
    async with httpx.AsyncClient(base_url=a.url, timeout=15) as http:
        chat = (await create_chat(http, world.owner, world.a, [world.member]))["chatId"]
    sockets = [
        FollowingSocket(chat_url(world.member, chat), procs, home=1).start(),
        FollowingSocket(chat_url(world.owner, chat), procs, home=1).start(),
        FollowingSocket(chat_url(world.member, chat), procs, home=0).start(),
    ]
    sender = RestSender(world.owner, [b, a])  # every other send goes to the cut-off process
    readiness: list[int] = []
    partitioned = asyncio.Event()

    async def watch_readiness(http: httpx.AsyncClient) -> None:
        while partitioned.is_set():
            readiness.append((await http.get(f"{b.url}/health/ready", timeout=15)).status_code)
            await asyncio.sleep(0.2)

    async def ready_again(http: httpx.AsyncClient) -> bool:
        return (await http.get(f"{b.url}/health/ready", timeout=15)).status_code == 200

    try:
        for socket in sockets:
            await asyncio.wait_for(socket.connected.wait(), 30)
        async with httpx.AsyncClient() as http:
            for i in range(5):
                await sender.send(http, chat, f"before-{i}")
            b.redis.stall()
            partitioned.set()
            watcher = asyncio.create_task(watch_readiness(http))
            cut_at = time.monotonic()
            n = 0
            while time.monotonic() - cut_at < partition_s:
                await sender.send(http, chat, f"during-{n}")
                n += 1
            b.redis.heal()
            partitioned.clear()
            healed_at = time.monotonic()
            await watcher
            for i in range(5):
                await sender.send(http, chat, f"after-{i}")
            await eventually(lambda: ready_again(http), timeout=30, every=0.2)
        rows = await stored(database, chat)
        await eventually(lambda: all(s.transcript.last == len(rows) for s in sockets), timeout=60)
        caught_up_s = time.monotonic() - healed_at
    finally:
        for socket in sockets:
            await socket.stop()

    assert 503 in readiness  # B knew it could not reach Redis
    # Sends that met B were refused (it cannot check revocation: fail closed) and retried
    # on A with the same clientMessageId; none was lost or stored twice.
    assert sender.refusals.get(401, 0) >= 1
    audit(rows, sender.acks)
    assert len(rows) == 10 + n
    for socket in sockets:
        clean(socket, len(rows))
    report(
        "T03",
        partition_s=partition_s,
        messages=len(rows),
        sends_refused_by_partitioned_process=sender.refusals,
        readiness_during=sorted(set(readiness)),
        sockets_complete_s_after_heal=round(caught_up_s, 2),
        socket_refusals=sum(s.refusals for s in sockets),
        lost=0,
        duplicates=0,
    )
