"""T01 (reliability.md): kill a chat instance mid-stream.

Senders in 4 chats, their sockets split over two chat processes whose PostgreSQL and
Redis links go through fault proxies; one process is SIGKILLed once half the messages
are acked. Clients reconnect to the survivor with ``after=<last seq>`` and resend what
was not acked with the same ``clientMessageId``.

Pass: every acked message is stored exactly once and every stored one was acked; per
chat the seqs are 1..N; every client's transcript is 1..N with no duplicate and no gap;
no client needed a reset. Short form 6 senders x 15 messages; full 20 x 500.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.chaos.clients import ChatSender, FollowingSocket
from tests.chaos.conftest import Cluster, size
from tests.chat.support import create_chat, token_of
from tests.core.realtime.waiting import eventually
from tests.plugins.harness import ServiceProcess, TokenIssuer
from tests.user.support import Actor, World, invite, sign_up

pytestmark = pytest.mark.slow

CHAT = {"ws_heartbeat_s": 1, "gap_wait_s": 0.05, "tail_cache_s": 0.2, "ws_messages_per_s": 1000}


def chat_url(actor: Actor, chat_id: str) -> Any:
    def url(proc: ServiceProcess, after: int) -> str:
        return f"{proc.ws_url}/api/chats/ws/{chat_id}?token={token_of(actor)}&after={after}"

    return url


async def people(
    users: httpx.AsyncClient, issuer: TokenIssuer, world: World, n: int
) -> list[Actor]:
    found = [world.owner, world.admin, world.member]
    while len(found) < n:
        actor = await sign_up(users, issuer, f"chaos{len(found)}")
        assert (await invite(users, world.owner, world.a, actor)).status_code == 201
        found.append(actor)
    return found


async def chat_seqs(db: Any, chats: list[str]) -> list[tuple[str, int, str, str]]:
    cur = await db.execute(
        "SELECT chat_id::text, seq, client_message_id, id::text FROM messages"
        " WHERE chat_id = ANY(%s::uuid[]) ORDER BY chat_id, seq",
        (chats,),
    )
    return await cur.fetchall()


async def test_t01_sigkill_one_chat_process_mid_stream(
    cluster: Cluster,
    users: httpx.AsyncClient,
    issuer: TokenIssuer,
    world: World,
    database: Any,
    report: Any,
) -> None:
    senders_n, per_sender = size(6, 20), size(15, 500)
    a = await cluster.start("chat", **CHAT)
    b = await cluster.start("chat", **CHAT)
    procs = [a.proc, b.proc]
    crowd = await people(users, issuer, world, senders_n + 1)
    observer, senders = crowd[0], crowd[1:]
    chats: list[str] = []
    async with httpx.AsyncClient(base_url=b.url, timeout=15) as http:
        for k in range(4):
            room = await create_chat(http, observer, world.a, senders[k::4], name=f"T01 {k}")
            chats.append(room["chatId"])
    sending = [
        ChatSender(FollowingSocket(chat_url(s, chats[i % 4]), procs, home=i % 2).start())
        for i, s in enumerate(senders)
    ]
    watching = [
        FollowingSocket(chat_url(observer, c), procs, home=(k + 1) % 2).start()
        for k, c in enumerate(chats)
    ]
    sockets = [s.socket for s in sending] + watching
    total = senders_n * per_sender
    killed_at: list[float] = []

    async def send_all(sender: ChatSender, index: int) -> None:
        for i in range(per_sender):
            await sender.send(f"t01:{index}:{i}", f"message {i} of sender {index}")
            if not killed_at and sum(len(s.acks) for s in sending) >= total // 2:
                killed_at.append(time.monotonic())
                a.proc.kill()  # SIGKILL of the process group: no close frame, no drain

    try:
        for socket in sockets:
            await asyncio.wait_for(socket.connected.wait(), 30)
        await asyncio.wait_for(
            asyncio.gather(*(send_all(s, i) for i, s in enumerate(sending))), size(120, 900)
        )
        assert killed_at
        reconnected = [s for s in sockets if s.home == 0]
        await eventually(lambda: all(s.connected.is_set() for s in reconnected), timeout=60)
        resubscribed_s = time.monotonic() - killed_at[0]
        async with database("chat") as db:
            rows = await chat_seqs(db, chats)
        last = {c: max((r[1] for r in rows if r[0] == c), default=0) for c in chats}
        await eventually(
            lambda: all(
                s.transcript.last == last[c]
                for s, c in [(x.socket, chats[i % 4]) for i, x in enumerate(sending)]
                + [(w, chats[k]) for k, w in enumerate(watching)]
            ),
            timeout=60,
        )
    finally:
        for socket in sockets:
            await socket.stop()

    # Stored: per chat, seqs 1..N; one row per clientMessageId; acked == stored.
    assert len(rows) == total
    for chat_id in chats:
        seqs = [r[1] for r in rows if r[0] == chat_id]
        assert seqs == list(range(1, len(seqs) + 1))
    stored = {r[2]: (r[3], r[1]) for r in rows}
    assert len(stored) == total
    acked = {cid: ack for s in sending for cid, ack in s.acks.items()}
    assert acked == stored
    # Seen: every client got its chat's messages once each, in order, with no reset.
    for socket in sockets:
        transcript = socket.transcript
        assert transcript.duplicates == []
        assert transcript.gaps == []
        assert transcript.resets == []
    assert any(s.reconnects for s in sockets)  # the kill really cut sockets
    report(
        "T01",
        messages=total,
        chats=len(chats),
        sockets=len(sockets),
        reconnects=sum(s.reconnects for s in sockets),
        resends=sum(s.resends for s in sending),
        lost=0,
        duplicates=0,
        resubscribed_within_s=round(resubscribed_s, 2),
    )
