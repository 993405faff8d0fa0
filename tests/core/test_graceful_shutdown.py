"""SIGTERM to real ``wealist serve`` processes (issue 12, reliability T13 in its one-machine
form): sockets are told to reconnect (1012) and resume on another process without loss,
SSE streams end cleanly and resume with ``Last-Event-ID``, and requests in flight - over
HTTP or as a socket frame - finish before the process exits.

Without the drain, Granian drops every connection at once: sockets see no close frame
and a stream ends mid-body, which these tests would report.
"""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import psycopg
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.chat.support import create_chat, token_of
from tests.core.realtime.waiting import eventually
from tests.noti.support import KEY, SseReader, event_body, open_stream, person
from tests.plugins.harness import Environment, ServiceProcess, TokenIssuer
from tests.user.support import Actor, World, build_world

pytestmark = pytest.mark.slow

RESTART = 1012
# Quick gap checks so resumed sockets converge fast; a long drain budget so a slow
# machine never turns "waits for the request in flight" into "gave up waiting".
CHAT_ENV = {
    "WEALIST_CHAT_WS_HEARTBEAT_S": "0.5",
    "WEALIST_CHAT_GAP_WAIT_S": "0.05",
    "WEALIST_CHAT_TAIL_CACHE_S": "0.2",
    "WEALIST_SHUTDOWN_DRAIN_S": "120",
}


@pytest.fixture
async def users(service_process: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    proc = await service_process("user")
    async with httpx.AsyncClient(base_url=proc.url, timeout=10) as client:
        yield client


@pytest.fixture
async def world(users: httpx.AsyncClient, issuer: TokenIssuer) -> World:
    return await build_world(users, issuer)


@pytest.fixture
def chat_process(
    service_process: Callable[..., Any], users: httpx.AsyncClient
) -> Callable[..., Any]:
    async def start(**extra: str) -> ServiceProcess:
        env = {"WEALIST_USER_SERVICE_URL": str(users.base_url).rstrip("/"), **CHAT_ENV, **extra}
        found: ServiceProcess = await service_process("chat", env=env)
        return found

    return start


async def exit_code(proc: ServiceProcess, timeout: float = 120) -> int:
    code = await eventually(lambda: proc.proc.poll() is not None, timeout=timeout, every=0.05)
    assert code
    assert proc.proc.returncode is not None
    return proc.proc.returncode


class Reader:
    """One chat's socket client: every MESSAGE_RECEIVED seq across its connections, the
    close code that ended each connection, and a reconnect (with ``after``) on demand."""

    def __init__(self, actor: Actor, chat_id: str, proc: ServiceProcess) -> None:
        self.actor = actor
        self.chat_id = chat_id
        self.proc = proc
        self.seqs: list[int] = []
        self.closes: list[int | None] = []
        self.acks: dict[str, int] = {}
        self.ws: ClientConnection | None = None
        self.open = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def url(self, proc: ServiceProcess) -> str:
        after = self.seqs[-1] if self.seqs else 0
        token = token_of(self.actor)
        return f"{proc.ws_url}/api/chats/ws/{self.chat_id}?token={token}&after={after}"

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(self.proc))

    async def move_to(self, proc: ServiceProcess) -> None:
        """After the connection ended: resume on ``proc`` from the last seq received."""
        assert self.task is not None
        await self.task
        self.proc = proc
        self.start()
        await asyncio.wait_for(self.open.wait(), 30)

    async def _run(self, proc: ServiceProcess) -> None:
        self.open.clear()
        async with connect(self.url(proc), open_timeout=10) as ws:
            self.ws = ws
            self.open.set()
            try:
                async for raw in ws:
                    frame = json.loads(raw)
                    if frame["type"] == "MESSAGE_RECEIVED":
                        self.seqs.append(frame["seq"])
                    elif frame["type"] == "MESSAGE_ACK":
                        self.acks[frame["clientMessageId"]] = frame["seq"]
            except ConnectionClosed:
                pass
        self.closes.append(ws.close_code)

    async def stop(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)


async def last_seqs(db: psycopg.AsyncConnection[Any], chats: list[str]) -> dict[str, int]:
    cur = await db.execute(
        "SELECT id::text, last_seq FROM chats WHERE id = ANY(%s::uuid[])", (chats,)
    )
    return {row[0]: row[1] for row in await cur.fetchall()}


@pytest.fixture
async def db_chat(environment: Environment) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    async with await psycopg.AsyncConnection.connect(
        environment.databases["chat"], autocommit=True
    ) as conn:
        yield conn


async def test_sigterm_tells_every_chat_socket_to_reconnect_and_resuming_elsewhere_loses_nothing(
    chat_process: Any, world: World, db_chat: psycopg.AsyncConnection[Any]
) -> None:
    a = await chat_process()
    b = await chat_process()
    people = [world.owner, world.admin, world.member]
    async with httpx.AsyncClient(base_url=b.url, timeout=10) as on_b:
        chats = [
            (await create_chat(on_b, world.owner, world.a, [world.admin, world.member], name=n))[
                "chatId"
            ]
            for n in ("Rollout", "Standup")
        ]
        on_a = [Reader(p, c, a) for c in chats for p in people]  # six sockets on A
        on_b_too = [Reader(world.owner, c, b) for c in chats]  # they see the restart not
        readers = on_a + on_b_too
        for r in readers:
            r.start()
        try:
            for r in readers:
                await asyncio.wait_for(r.open.wait(), 30)
            sent = 0

            async def send(count: int) -> None:
                nonlocal sent
                for _ in range(count):
                    chat, by = chats[sent % 2], people[sent % 3]
                    body = {"content": f"message {sent}", "clientMessageId": f"m{sent}"}
                    response = await on_b.post(
                        f"/api/chats/messages/{chat}", json=body, headers=by.headers
                    )
                    assert response.status_code == 201, response.text
                    sent += 1

            await send(20)
            sending = asyncio.create_task(send(40))  # keeps going through the restart
            await eventually(lambda: sent >= 30, timeout=60)
            a.proc.send_signal(signal.SIGTERM)
            assert await exit_code(a) == 0
            for r in on_a:
                await r.move_to(b)
            await sending

            last = await last_seqs(db_chat, chats)
            assert last == dict.fromkeys(chats, 30)

            def caught_up() -> bool:
                return all(r.seqs and r.seqs[-1] == last[r.chat_id] for r in readers)

            await eventually(caught_up, timeout=60, every=0.05)
        finally:
            for r in readers:
                await r.stop()

    for r in on_a:
        assert r.closes[0] == RESTART, (r.actor.name, r.closes)  # told to reconnect, no reset
        assert r.seqs == list(range(1, last[r.chat_id] + 1))  # each once, in order, no gap
    for r in on_b_too:
        assert len(r.closes) == 1  # only the close at the end of the test
        assert r.seqs == list(range(1, last[r.chat_id] + 1))
    assert "shutdown.drain_timeout" not in a.logs()


async def lock_waiters(db: psycopg.AsyncConnection[Any]) -> int:
    cur = await db.execute(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def test_requests_in_flight_finish_while_readiness_fails_and_new_sockets_are_sent_away(
    chat_process: Any, world: World, environment: Environment
) -> None:
    # The writer waits 100 ms for company, so both sends below share one batch.
    a = await chat_process(WEALIST_CHAT_SEND_LINGER_S="0.1")
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=60) as http,
        await psycopg.AsyncConnection.connect(environment.databases["chat"]) as locker,
        await psycopg.AsyncConnection.connect(
            environment.databases["chat"], autocommit=True
        ) as watcher,
    ):
        room = (await create_chat(http, world.owner, world.a, [world.member]))["chatId"]
        sender = Reader(world.owner, room, a)
        sender.start()
        await asyncio.wait_for(sender.open.wait(), 30)

        # Hold the chat's row: both sends below stop inside their batch's transaction.
        await locker.execute("SELECT 1 FROM chats WHERE id = %s FOR UPDATE", (room,))
        posting = asyncio.create_task(
            http.post(
                f"/api/chats/messages/{room}",
                json={"content": "over http", "clientMessageId": "http-1"},
                headers=world.member.headers,
            )
        )
        assert sender.ws is not None
        await sender.ws.send(
            json.dumps({"type": "MESSAGE", "content": "over the socket", "clientMessageId": "ws-1"})
        )
        await eventually(lambda: lock_waiters(watcher), equals=1, timeout=30)  # one batch

        a.proc.send_signal(signal.SIGTERM)

        async def not_ready() -> dict[str, Any] | None:
            ready = await http.get("/health/ready")
            return ready.json() if ready.status_code == 503 else None

        body = await eventually(not_ready, timeout=30, every=0.05)
        assert body["status"] == "not_ready"
        assert body["draining"] is True
        assert (await http.get("/health/live")).status_code == 200

        # A socket opened now is told at once to go elsewhere.
        late = f"{a.ws_url}/api/chats/ws/{room}?token={token_of(world.member)}&after=0"
        async with connect(late, open_timeout=10) as ws:
            with pytest.raises(ConnectionClosed):
                while True:
                    await asyncio.wait_for(ws.recv(), 30)
        assert ws.close_code == RESTART

        assert a.proc.poll() is None  # still waiting for the two sends
        await locker.rollback()  # release the row

        response = await posting
        assert response.status_code == 201, response.text
        assert response.json()["clientMessageId"] == "http-1"
        assert await exit_code(a) == 0
        await asyncio.wait_for(asyncio.shield(sender.task), 30)  # type: ignore[arg-type]

    assert sender.closes == [RESTART]
    assert set(sender.acks) == {"ws-1"}  # acked before the close, not lost with it
    assert await stored(environment, room) == {
        "http-1": response.json()["seq"],
        "ws-1": sender.acks["ws-1"],
    }


async def stored(environment: Environment, room: str) -> dict[str, int]:
    async with await psycopg.AsyncConnection.connect(environment.databases["chat"]) as conn:
        cur = await conn.execute(
            "SELECT client_message_id, seq FROM messages WHERE chat_id = %s", (room,)
        )
        return {row[0]: row[1] for row in await cur.fetchall()}


async def test_sigterm_ends_sse_streams_cleanly_and_they_resume_elsewhere_with_last_event_id(
    service_process: Callable[..., Any], issuer: TokenIssuer
) -> None:
    env = {"WEALIST_NOTI_SSE_PING_S": "5", "WEALIST_SHUTDOWN_DRAIN_S": "120"}
    a = await service_process("noti", env=env)
    b = await service_process("noti", env=env)
    me, workspace = person(issuer), str(uuid.uuid4())
    received: list[int] = []

    async def create(client: httpx.AsyncClient, n: int) -> None:
        body = event_body(me.user_id, workspace, name=f"n{n}", eventId=str(uuid.uuid4()))
        response = await client.post("/api/internal/notifications", json=body, headers=KEY)
        assert response.status_code == 201, response.text

    async def read_until_end(reader: SseReader) -> bool:
        """Events until the server ends the stream; True when it ended cleanly."""
        try:
            while True:
                event = await reader.next(timeout=60)
                if event.event == "notification":
                    received.append(int(event.id or 0))
        except StopAsyncIteration:
            return True

    async with (
        httpx.AsyncClient(base_url=a.url, timeout=60) as on_a,
        httpx.AsyncClient(base_url=b.url, timeout=60) as on_b,
    ):
        async with open_stream(on_a, me.token, last_id="0") as (response, reader):
            assert response.status_code == 200
            assert (await reader.next()).event == "connected"
            for n in range(5):
                await create(on_b, n)
            while len(received) < 5:
                event = await reader.next(timeout=30)
                assert event.event == "notification", event
                received.append(int(event.id or 0))
            a.proc.send_signal(signal.SIGTERM)
            assert await read_until_end(reader)  # no RemoteProtocolError: a clean end
            last_id = reader.last_id
        assert await exit_code(a) == 0
        for n in range(5, 10):
            await create(on_b, n)
        async with open_stream(on_b, me.token, last_id=last_id) as (response, reader):
            assert response.status_code == 200
            connected = await reader.next()
            assert connected.event == "connected"
            assert connected.id == last_id
            while len(received) < 10:
                event = await reader.next(timeout=30)
                assert event.event == "notification", event
                received.append(int(event.id or 0))
    assert received == list(range(1, 11))  # exactly once, in order, across the restart
