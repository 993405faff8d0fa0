"""Delivery without loss across real chat processes (reliability T01, T07, T11).

T01 runs in its one-machine form, scaled down to stay well under a minute in CI
(``CHAT_T01_SENDERS`` / ``CHAT_T01_MESSAGES`` scale it up): senders in 4 chats, their
sockets split over two processes on one Redis, one process SIGKILLed halfway. Clients
reconnect to the survivor with ``after=<last seq>`` and resend what was not acked with
the same ``clientMessageId``. Afterwards every acked message is stored exactly once, each
chat's seqs are 1..N, and every socket client received each message exactly once, in seq
order, across its reconnections.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.chat.support import create_chat, token_of
from tests.core.realtime.rawws import RawWebSocket
from tests.core.realtime.waiting import eventually
from tests.plugins.harness import ServiceProcess, TokenIssuer
from tests.user.support import Actor, World, invite, sign_up

pytestmark = pytest.mark.slow

FAST = {"ws_heartbeat_s": 0.5, "gap_wait_s": 0.05, "tail_cache_s": 0.2}


class Peer:
    """One socket client of one chat: follows its chat across reconnects, records every
    MESSAGE_RECEIVED seq, and sends messages one at a time until each is acked."""

    def __init__(self, actor: Actor, chat_id: str, procs: list[ServiceProcess], home: int) -> None:
        self.actor = actor
        self.chat_id = chat_id
        self.procs = procs
        self.home = home
        self.received: list[int] = []
        self.out_of_order: list[tuple[int, int]] = []
        self.acks: dict[str, tuple[str, int]] = {}
        self.reconnects = 0
        self._ws: ClientConnection | None = None
        self._connected = asyncio.Event()
        self._acked: dict[str, asyncio.Future[tuple[str, int]]] = {}
        self._stop = False

    def _proc(self) -> ServiceProcess:
        alive = [p for p in self.procs if p.proc.poll() is None]
        preferred = self.procs[self.home]
        return preferred if preferred in alive else alive[0]

    async def run(self) -> None:
        while not self._stop:
            proc = self._proc()
            after = f"&after={self.received[-1]}" if self.received else "&after=0"
            url = f"{proc.ws_url}/api/chats/ws/{self.chat_id}?token={token_of(self.actor)}{after}"
            try:
                async with connect(url, open_timeout=5, max_size=None) as ws:
                    self._ws = ws
                    self._connected.set()
                    async for raw in ws:
                        self._frame(json.loads(raw))
            except (ConnectionClosed, InvalidStatus, OSError, TimeoutError):
                pass
            self._ws = None
            self._connected.clear()
            if not self._stop:
                self.reconnects += 1
                await asyncio.sleep(random.uniform(0.05, 0.3))  # backoff with jitter

    def _frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "MESSAGE_RECEIVED":
            seq = frame["seq"]
            expected = (self.received[-1] if self.received else 0) + 1
            if seq != expected:
                self.out_of_order.append((expected, seq))
            self.received.append(seq)
        elif kind == "MESSAGE_ACK":
            waiter = self._acked.get(frame["clientMessageId"])
            if waiter is not None and not waiter.done():
                waiter.set_result((frame["messageId"], frame["seq"]))

    async def send_until_acked(self, client_id: str, content: str) -> None:
        frame = json.dumps({"type": "MESSAGE", "content": content, "clientMessageId": client_id})
        while True:
            await asyncio.wait_for(self._connected.wait(), 30)
            waiter = self._acked[client_id] = asyncio.get_running_loop().create_future()
            ws = self._ws
            try:
                assert ws is not None
                await ws.send(frame)
                self.acks[client_id] = await asyncio.wait_for(asyncio.shield(waiter), 5)
                return
            except (ConnectionClosed, TimeoutError, AssertionError):
                await asyncio.sleep(0.05)  # resend on the next connection, same id

    async def stop(self) -> None:
        self._stop = True
        if self._ws is not None:
            await self._ws.close()


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += [child, *_descendants(child)]
    return found


def kill_instance(proc: ServiceProcess) -> None:
    """SIGKILL the instance: Granian's worker processes and their parent, all at once."""
    for pid in _descendants(proc.proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.kill()


async def _members(
    users: httpx.AsyncClient, issuer: TokenIssuer, world: World, n: int
) -> list[Actor]:
    found = [world.owner, world.admin, world.member]
    while len(found) < n:
        actor = await sign_up(users, issuer, f"sender{len(found)}")
        assert (await invite(users, world.owner, world.a, actor)).status_code == 201
        found.append(actor)
    return found


async def test_t01_kill_a_process_mid_stream_nothing_acked_is_lost_or_doubled(
    chat_process: Any, users: httpx.AsyncClient, issuer: TokenIssuer, world: World, db_chat: Any
) -> None:
    senders_n = int(os.environ.get("CHAT_T01_SENDERS", "8"))
    per_sender = int(os.environ.get("CHAT_T01_MESSAGES", "40"))
    a = await chat_process(**FAST)
    b = await chat_process(**FAST)
    procs = [a, b]
    people = await _members(users, issuer, world, senders_n + 1)
    observer, senders = people[0], people[1:]
    chats: list[str] = []
    async with httpx.AsyncClient(base_url=b.url, timeout=10) as http:
        for k in range(4):
            group = senders[k::4]
            room = await create_chat(http, observer, world.a, group, name=f"T01 {k}")
            chats.append(room["chatId"])
    sending = [Peer(s, chats[i % 4], procs, home=i % 2) for i, s in enumerate(senders)]
    watching = [Peer(observer, c, procs, home=(k + 1) % 2) for k, c in enumerate(chats)]
    peers = sending + watching
    runners = [asyncio.create_task(p.run()) for p in peers]
    total = senders_n * per_sender
    killed = asyncio.Event()

    async def sender(peer: Peer) -> None:
        for i in range(per_sender):
            await peer.send_until_acked(f"{peer.actor.user_id}:{i}", f"{peer.actor.name} #{i}")
            if not killed.is_set() and sum(len(p.acks) for p in sending) >= total // 2:
                killed.set()
                kill_instance(a)  # SIGKILL: no graceful close, in-flight sends are lost mid-way

    try:
        for p in peers:
            await asyncio.wait_for(p._connected.wait(), 30)
        await asyncio.wait_for(asyncio.gather(*(sender(p) for p in sending)), 120)
        assert killed.is_set()

        cur = await db_chat.execute(
            "SELECT id, last_seq FROM chats WHERE id = ANY(%s::uuid[])", (chats,)
        )
        last = {str(r[0]): r[1] for r in await cur.fetchall()}

        def caught_up() -> bool:
            return all((p.received or [0])[-1] == last[p.chat_id] for p in peers)

        await eventually(caught_up, timeout=60, every=0.1)
    finally:
        for p in peers:
            await p.stop()
        for task in runners:
            task.cancel()
        await asyncio.gather(*runners, return_exceptions=True)

    # The database: per chat, seqs 1..N with no gap; one row per client id.
    cur = await db_chat.execute(
        "SELECT chat_id::text, seq, client_message_id, id::text, user_id::text FROM messages"
        " WHERE chat_id = ANY(%s::uuid[]) ORDER BY chat_id, seq",
        (chats,),
    )
    rows = await cur.fetchall()
    assert len(rows) == total
    for chat_id in chats:
        seqs = [r[1] for r in rows if r[0] == chat_id]
        assert seqs == list(range(1, len(seqs) + 1))
        assert last[chat_id] == len(seqs)
    by_client_id = {r[2]: (r[3], r[1]) for r in rows}
    assert len(by_client_id) == total
    # Every acked message is the stored one, and every stored one was sent and acked.
    acked = {cid: ack for p in sending for cid, ack in p.acks.items()}
    assert acked == by_client_id
    # Every socket client got its chat's messages exactly once, in seq order.
    for p in peers:
        assert p.out_of_order == [], (p.actor.name, p.out_of_order[:5])
        assert p.received == list(range(1, last[p.chat_id] + 1))
    assert any(p.reconnects for p in peers)  # the kill really cut sockets


async def test_t07_one_client_id_sent_five_times_across_processes(
    chat_process: Any, world: World, db_chat: Any
) -> None:
    a = await chat_process()
    b = await chat_process()
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=10) as on_a,
        httpx.AsyncClient(base_url=b.url, timeout=10) as on_b,
    ):
        room = await create_chat(on_a, world.owner, world.a, [world.member])
        path = f"/api/chats/messages/{room['chatId']}"
        body = {"content": "exactly once", "clientMessageId": "t07"}
        url = f"{b.ws_url}/api/chats/ws/{room['chatId']}?token={token_of(world.owner)}"
        async with connect(url, open_timeout=10) as ws:

            async def over_socket() -> tuple[str, int]:
                await ws.send(json.dumps({"type": "MESSAGE", **body}))
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if frame["type"] == "MESSAGE_ACK":
                        return frame["messageId"], frame["seq"]

            async def over_http(client: httpx.AsyncClient) -> tuple[str, int]:
                response = await client.post(path, json=body, headers=world.owner.headers)
                assert response.status_code == 201, response.text
                return response.json()["messageId"], response.json()["seq"]

            results = await asyncio.gather(
                over_http(on_a), over_http(on_b), over_http(on_a), over_http(on_b), over_socket()
            )
        later = await over_http(on_a)
        assert len({*results, later}) == 1
        assert later[1] == 1
        different = await on_b.post(
            path,
            json={"content": "not the same", "clientMessageId": "t07"},
            headers=world.owner.headers,
        )
        assert different.status_code == 422
    cur = await db_chat.execute(
        "SELECT count(*) FROM messages WHERE chat_id = %s", (room["chatId"],)
    )
    assert (await cur.fetchone())[0] == 1


def _send_buffer_max() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    except (OSError, IndexError, ValueError):
        return 4 * 1024 * 1024


async def test_t11_a_socket_that_stops_reading_is_closed_and_slows_nobody(
    chat_process: Any, world: World
) -> None:
    proc = await chat_process(ws_queue_size=32, ws_messages_per_s=100_000, **FAST)
    async with httpx.AsyncClient(base_url=proc.url, timeout=10) as http:
        room = await create_chat(http, world.owner, world.a, [world.member, world.admin])
    chat_id = room["chatId"]
    padding = "x" * 9000
    # Enough bytes that kernel socket buffers cannot hide a stalled reader.
    count = max(300, 3 * _send_buffer_max() // len(padding))
    stalled = await RawWebSocket.connect(
        f"{proc.ws_url}/api/chats/ws/{chat_id}?token={token_of(world.admin)}", rcvbuf=4096
    )
    try:
        assert stalled.status == 101
        path = f"{proc.ws_url}/api/chats/ws/{chat_id}?token="
        async with (
            connect(path + token_of(world.member), max_size=None) as healthy,
            connect(path + token_of(world.owner), max_size=None) as sender,
        ):
            got: list[int] = []
            echoed: list[int] = []

            async def collect(ws: ClientConnection, into: list[int]) -> None:
                while len(into) < count:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
                    if frame["type"] == "MESSAGE_RECEIVED":
                        into.append(frame["seq"])

            readers = [
                asyncio.create_task(collect(healthy, got)),
                asyncio.create_task(collect(sender, echoed)),
            ]
            for i in range(count):
                while len(echoed) < i - 8:  # at most 8 in flight: the healthy keep up
                    await asyncio.sleep(0.005)
                await sender.send(json.dumps({"type": "MESSAGE", "content": f"{i} {padding}"}))
            await asyncio.wait_for(asyncio.gather(*readers), 180)
            assert got == list(range(1, count + 1))  # everything, once, in order
            assert echoed == got
        drained = await stalled.drain(timeout=60)
        seqs = [json.loads(t)["seq"] for t in drained.texts if '"MESSAGE_RECEIVED"' in t]
        assert seqs == list(range(1, len(seqs) + 1))  # a prefix, in order
        assert len(seqs) < count  # dropped, not buffered for
        assert drained.close_code == 1013 or (drained.close_code is None and drained.eof)
    finally:
        stalled.close()
