"""SIGKILL a chat worker in the middle of a busy stream of batches (issue 20).

Socket senders and REST senders write into three chats as fast as their acks come, all
on process A, so its writer is always writing a batch of several sends; observers follow
each chat from process B. Halfway, A's Granian worker is SIGKILLed (its main process
starts another): the batch in flight dies with it, committed or not, and so do the
publishes of a batch that had committed. Clients reconnect with ``after=<last seq>`` and
resend whatever was not acked with the same ``clientMessageId``; REST senders retry
theirs. Afterwards every acked message is stored exactly once with the id and seq it was
acked with, each chat's seqs are 1..N, nothing is stored that was not acked, and every
socket received each message of its chat exactly once, in order, across reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
from typing import Any

import httpx
import pytest

from tests.chat.support import create_chat
from tests.chat.test_delivery import FAST, Peer, _descendants, _members
from tests.core.realtime.waiting import eventually
from tests.plugins.harness import ServiceProcess, TokenIssuer
from tests.user.support import Actor, World

pytestmark = pytest.mark.slow

CHATS = 3


def kill_workers(proc: ServiceProcess) -> list[int]:
    """SIGKILL the instance's worker processes (not its main, which replaces them)."""
    killed = _descendants(proc.proc.pid)
    for pid in killed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return killed


async def post_until_acked(
    procs: list[ServiceProcess], actor: Actor, chat_id: str, client_id: str, content: str
) -> tuple[str, int]:
    """A REST sender: the same clientMessageId until a 201 (a refused connection or a
    503 from a dying worker is retried, preferring the first process)."""
    body = {"content": content, "clientMessageId": client_id}
    while True:
        for proc in procs:
            try:
                async with httpx.AsyncClient(base_url=proc.url, timeout=5) as http:
                    response = await http.post(
                        f"/api/chats/messages/{chat_id}", json=body, headers=actor.headers
                    )
            except httpx.TransportError:
                continue
            if response.status_code == 201:
                found = response.json()
                return found["messageId"], found["seq"]
            assert response.status_code >= 500, response.text  # never a 4xx for a retry
        await asyncio.sleep(random.uniform(0.05, 0.2))


async def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(
    service_process: Any,
    users: httpx.AsyncClient,
    issuer: TokenIssuer,
    world: World,
    database: Any,
) -> None:
    socket_senders = int(os.environ.get("CHAT_BATCH_KILL_SOCKETS", "9"))
    rest_senders = int(os.environ.get("CHAT_BATCH_KILL_REST", "6"))
    per_sender = int(os.environ.get("CHAT_BATCH_KILL_MESSAGES", "30"))
    env = {"WEALIST_USER_SERVICE_URL": str(users.base_url).rstrip("/")}
    env.update({f"WEALIST_CHAT_{k.upper()}": str(v) for k, v in FAST.items()})
    a = await service_process("chat", env=env)
    b = await service_process("chat", env=env)
    people = await _members(users, issuer, world, socket_senders + rest_senders + 1)
    observer, by_socket, by_rest = (
        people[0],
        people[1 : socket_senders + 1],
        people[socket_senders + 1 :],
    )
    chats: list[str] = []
    async with httpx.AsyncClient(base_url=b.url, timeout=10) as http:
        for k in range(CHATS):
            room = await create_chat(
                http, observer, world.a, by_socket[k::CHATS] + by_rest[k::CHATS], name=f"B {k}"
            )
            chats.append(room["chatId"])
    procs = [a, b]
    sending = [Peer(s, chats[i % CHATS], procs, home=0) for i, s in enumerate(by_socket)]
    watching = [Peer(observer, c, procs, home=1) for c in chats]
    peers = sending + watching
    runners = [asyncio.create_task(p.run()) for p in peers]
    total = (socket_senders + rest_senders) * per_sender
    rest_acks: dict[str, tuple[str, int]] = {}
    killed: list[int] = []

    def acked() -> int:
        return sum(len(p.acks) for p in sending) + len(rest_acks)

    def maybe_kill() -> None:
        if not killed and acked() >= total // 2:
            killed.extend(kill_workers(a))  # mid-stream: batches are being written

    async def over_socket(peer: Peer) -> None:
        for i in range(per_sender):
            await peer.send_until_acked(f"{peer.actor.user_id}:{i}", f"{peer.actor.name} #{i}")
            maybe_kill()

    async def over_rest(k: int, actor: Actor) -> None:
        chat_id = chats[k % CHATS]
        for i in range(per_sender):
            client_id = f"{actor.user_id}:{i}"
            rest_acks[client_id] = await post_until_acked(
                procs, actor, chat_id, client_id, f"{actor.name} #{i}"
            )
            maybe_kill()

    try:
        for p in peers:
            await asyncio.wait_for(p._connected.wait(), 30)
        await asyncio.wait_for(
            asyncio.gather(
                *(over_socket(p) for p in sending),
                *(over_rest(k, actor) for k, actor in enumerate(by_rest)),
            ),
            180,
        )
        assert killed, "the worker was never killed"
        async with database("chat") as db:
            cur = await db.execute(
                "SELECT id::text, last_seq FROM chats WHERE id = ANY(%s::uuid[])", (chats,)
            )
            last = {r[0]: r[1] for r in await cur.fetchall()}

        def caught_up() -> bool:
            return all((p.received or [0])[-1] == last[p.chat_id] for p in peers)

        await eventually(caught_up, timeout=60, every=0.1)
    finally:
        for p in peers:
            await p.stop()
        for task in runners:
            task.cancel()
        await asyncio.gather(*runners, return_exceptions=True)

    async with database("chat") as db:
        cur = await db.execute(
            "SELECT chat_id::text, seq, client_message_id, id::text FROM messages"
            " WHERE chat_id = ANY(%s::uuid[]) ORDER BY chat_id, seq",
            (chats,),
        )
        rows = await cur.fetchall()
    assert len(rows) == total  # nothing lost, nothing doubled
    for chat_id in chats:
        seqs = [r[1] for r in rows if r[0] == chat_id]
        assert seqs == list(range(1, len(seqs) + 1)) and last[chat_id] == len(seqs)
    by_client_id = {r[2]: (r[3], r[1]) for r in rows}
    assert len(by_client_id) == total
    acks = {cid: ack for p in sending for cid, ack in p.acks.items()} | rest_acks
    assert acks == by_client_id  # every ack is the stored message, every row was acked
    for p in peers:
        assert p.out_of_order == [], (p.actor.name, p.out_of_order[:5])
        assert p.received == list(range(1, last[p.chat_id] + 1))
    assert any(p.reconnects for p in sending)  # the kill really cut A's sockets
