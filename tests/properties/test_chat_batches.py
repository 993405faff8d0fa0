"""Group commit of chat messages, as a property (issue 20).

A Hypothesis state machine fires rounds of concurrent sends at a real ``wealist serve
chat`` process, over REST and over the senders' sockets, into several chats at once, so
the process's writer puts them together in batches. A round mixes new messages, sends
without a clientMessageId, retries of earlier sends (the same clientMessageId and content,
from an earlier round or from the same one: the same batch), the same clientMessageId with
other content, and messages the database refuses (a constraint on their content), so a
batch fails midway; some rounds also cut the writer's database connections while their
batch is in flight (``pg_terminate_backend``), so it fails and runs again, once after its
COMMIT reached the server but not its answer.

After every round: every sender was answered (a success, or the 422 its send deserves;
never a 5xx, never silence); every acked message is stored exactly once, with the id, seq
and content it was acked with; nothing is stored that nobody was acked for; one row per
clientMessageId, whose every same-content send got that row; refused content is never
stored; each chat's seqs are 1..N; and every socket of a chat received 1..N, once each,
in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from typing_extensions import override
from websockets.asyncio.client import ClientConnection, connect

from tests.plugins.harness import Environment, ServiceProcess, TokenIssuer
from tests.properties.support import Bridge, profile
from tests.user.support import Actor, build_world

REFUSED_WORD = "poison"  # the test's constraint refuses messages containing it
ANSWER_WAIT_S = 30.0  # a send not answered by then was left unanswered
# what a sender may be told besides success
REFUSALS = {"CLIENT_MESSAGE_ID_REUSED", "MESSAGE_REFUSED"}
KINDS = ["fresh", "fresh", "none", "again", "again", "other", "refused"]
# (chat, sender, transport, kind, which earlier send)
SEND = st.tuples(
    st.integers(0, 2),
    st.integers(0, 2),
    st.sampled_from(["rest", "socket"]),
    st.sampled_from(KINDS),
    st.integers(0, 1 << 16),
)


def machine_settings() -> settings:
    examples, steps = (12, 8) if profile() == "default" else (80, 20)
    phases = [Phase.explicit, Phase.reuse, Phase.generate]
    if profile() == "thorough":
        phases.append(Phase.shrink)
    return settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        derandomize=profile() == "default",
        database=None,
        phases=phases,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        print_blob=True,
    )


def token_of(actor: Actor) -> str:
    return actor.headers["Authorization"].removeprefix("Bearer ")


@dataclass
class Sent:
    """One send and what its sender was told."""

    chat: int
    sender: int
    client_id: str | None
    content: str
    transport: str
    outcome: str = ""  # "ok" or the error code
    message_id: str | None = None
    seq: int | None = None


class Socket:
    """A sender's chat socket: acks and errors matched to sends by clientMessageId, every
    MESSAGE_RECEIVED seq recorded."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: list[int] = []
        self.waiting: dict[str, deque[asyncio.Future[dict[str, Any]]]] = defaultdict(deque)
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "MESSAGE_RECEIVED":
                self.received.append(frame["seq"])
            elif kind in ("MESSAGE_ACK", "ERROR") and frame.get("clientMessageId"):
                waiters = self.waiting[frame["clientMessageId"]]
                if waiters:
                    waiters.popleft().set_result(frame)

    async def send(self, sent: Sent) -> dict[str, Any]:
        assert sent.client_id is not None  # an ack names its send by it
        answer = asyncio.get_running_loop().create_future()
        self.waiting[sent.client_id].append(answer)
        frame = {"type": "MESSAGE", "content": sent.content, "clientMessageId": sent.client_id}
        await self.ws.send(json.dumps(frame))
        return await asyncio.wait_for(answer, ANSWER_WAIT_S)

    async def close(self) -> None:
        self.reader.cancel()
        with contextlib.suppress(BaseException):
            await self.reader
        await self.ws.close()


class Batches(RuleBasedStateMachine):
    http: httpx.AsyncClient
    service: ServiceProcess
    people: list[Actor]
    workspace: str
    db: psycopg.AsyncConnection[Any]
    cuts = 0  # writer connections terminated, over the whole test

    def __init__(self, run: Bridge) -> None:
        super().__init__()
        self.run = run
        self.chats: list[str] = []
        self.members: list[list[Actor]] = []
        self.sockets: dict[tuple[int, int], Socket] = {}
        self.sent: list[Sent] = []

    @initialize()
    def open_chats(self) -> None:
        owner, admin, member = self.people
        rooms = [[owner, admin, member], [member, owner], [admin, owner]]

        async def open_all() -> None:
            for n, room in enumerate(rooms):
                body = {
                    "workspaceId": self.workspace,
                    "chatType": "GROUP",
                    "chatName": f"batches {n}",
                    "participants": [p.user_id for p in room[1:]],
                }
                made = await self.http.post("/api/chats", json=body, headers=room[0].headers)
                assert made.status_code in (200, 201), made.text
                chat_id = made.json()["chatId"]
                self.chats.append(chat_id)
                self.members.append(room)
                for k, person in enumerate(room):
                    url = (
                        f"{self.service.ws_url}/api/chats/ws/{chat_id}"
                        f"?token={token_of(person)}&after=0"
                    )
                    self.sockets[(n, k)] = Socket(await connect(url, max_size=None))

        self.run(open_all())

    def _resolve(self, spec: tuple[int, int, str, str, int], earlier: list[Sent]) -> Sent:
        chat, sender, transport, kind, pick = spec
        sender %= len(self.members[chat])
        fresh = uuid.uuid4().hex[:12]
        with_ids = [s for s in earlier if s.client_id is not None]
        if kind in ("again", "other") and with_ids:
            was = with_ids[pick % len(with_ids)]
            content = was.content if kind == "again" else f"other {fresh}"
            return Sent(was.chat, was.sender, was.client_id, content, transport)
        if kind == "refused":
            return Sent(chat, sender, fresh, f"{REFUSED_WORD} {fresh}", transport)
        client_id = None if kind == "none" and transport == "rest" else fresh
        return Sent(chat, sender, client_id, f"m {fresh}", transport)

    async def _send(self, sent: Sent) -> None:
        if sent.transport == "socket":
            frame = await self.sockets[(sent.chat, sent.sender)].send(sent)
            if frame["type"] == "MESSAGE_ACK":
                sent.outcome, sent.message_id, sent.seq = "ok", frame["messageId"], frame["seq"]
            else:
                sent.outcome = frame["code"]
            return
        who = self.members[sent.chat][sent.sender]
        body: dict[str, Any] = {"content": sent.content}
        if sent.client_id is not None:
            body["clientMessageId"] = sent.client_id
        path = f"/api/chats/messages/{self.chats[sent.chat]}"
        response = await self.http.post(path, json=body, headers=who.headers)
        if response.status_code == 201:
            found = response.json()
            sent.outcome, sent.message_id, sent.seq = "ok", found["messageId"], found["seq"]
        else:
            assert response.status_code == 422, response.text  # no 5xx, ever
            sent.outcome = response.json()["error"]["code"]

    async def _cut_writers(self, after_ms: int) -> None:
        await asyncio.sleep(after_ms / 1000)
        cur = await self.db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name LIKE 'wealist chat writer%'"
        )
        Batches.cuts += sum(1 for (done,) in await cur.fetchall() if done)

    @rule(specs=st.lists(SEND, min_size=1, max_size=10), cut=st.none() | st.integers(0, 6))
    def send_round(self, specs: list[tuple[int, int, str, str, int]], cut: int | None) -> None:
        sends: list[Sent] = []
        for spec in specs:
            sends.append(self._resolve(spec, self.sent + sends))

        async def round_() -> None:
            work = [self._send(s) for s in sends]
            if cut is not None:
                work.append(self._cut_writers(cut))
            await asyncio.gather(*work)

        self.run(round_())
        self.sent += sends
        for s in sends:  # every sender answered: a success or a deserved refusal
            assert s.outcome == "ok" or s.outcome in REFUSALS, s
            if REFUSED_WORD in s.content:  # refused (or 422 for a client id taken already)
                assert s.outcome in REFUSALS, s

    @invariant()
    def every_acked_message_is_stored_exactly_once(self) -> None:
        if not self.chats:
            return
        rows, last = self.run(self._stored())
        by_id = {r[2]: r for r in rows}
        acked = [s for s in self.sent if s.outcome == "ok"]
        assert len(by_id) == len(rows)
        assert set(by_id) == {s.message_id for s in acked}  # nothing stored unacked
        for s in acked:
            chat_id, seq, _, content, _, _ = by_id[s.message_id]
            assert (chat_id, seq, content) == (self.chats[s.chat], s.seq, s.content), s
        for n, chat_id in enumerate(self.chats):
            seqs = sorted(r[1] for r in rows if r[0] == chat_id)
            assert seqs == list(range(1, len(seqs) + 1)) and last[chat_id] == len(seqs), n
        keys: dict[tuple[str, str, str], list[tuple[Any, ...]]] = defaultdict(list)
        for r in rows:
            if r[4] is not None:
                keys[(r[0], r[5], r[4])].append(r)
        for s in self.sent:
            if s.client_id is None:
                continue
            who = self.members[s.chat][s.sender].user_id
            found = keys.get((self.chats[s.chat], who, s.client_id), [])
            assert len(found) <= 1, found  # one row per clientMessageId
            if not found:  # only refused content was ever sent with it
                assert s.outcome == "MESSAGE_REFUSED", s
            elif found[0][3] == s.content:
                assert (s.outcome, s.message_id) == ("ok", found[0][2]), s
            else:
                assert s.outcome in REFUSALS, s
        self.run(self._delivered(last))

    async def _stored(self) -> tuple[list[tuple[Any, ...]], dict[str, int]]:
        cur = await self.db.execute(
            "SELECT chat_id::text, seq, id::text, content, client_message_id, user_id::text"
            " FROM messages WHERE chat_id = ANY(%s::uuid[])",
            (self.chats,),
        )
        rows = list(await cur.fetchall())
        cur = await self.db.execute(
            "SELECT id::text, last_seq FROM chats WHERE id = ANY(%s::uuid[])", (self.chats,)
        )
        return rows, {r[0]: r[1] for r in await cur.fetchall()}

    async def _delivered(self, last: dict[str, int]) -> None:
        """Every socket gets its chat's messages 1..N, once each, in order."""
        for (n, _), socket in self.sockets.items():
            want = last[self.chats[n]]
            for _ in range(int(ANSWER_WAIT_S / 0.05)):
                if len(socket.received) >= want:
                    break
                await asyncio.sleep(0.05)
            assert socket.received == list(range(1, want + 1)), (n, socket.received)

    @override
    def teardown(self) -> None:
        for socket in self.sockets.values():
            self.run(socket.close())


@pytest.mark.slow
async def test_batched_sends_are_stored_once_gapless_and_all_answered(
    chat_service: ServiceProcess,
    users: httpx.AsyncClient,
    issuer: TokenIssuer,
    environment: Environment,
) -> None:
    world = await build_world(users, issuer)
    async with (
        await psycopg.AsyncConnection.connect(environment.databases["chat"], autocommit=True) as db,
        httpx.AsyncClient(base_url=chat_service.url, timeout=ANSWER_WAIT_S) as http,
    ):
        constraint = "test_batches_refused"
        await db.execute(
            f"ALTER TABLE messages ADD CONSTRAINT {constraint}"
            f" CHECK (position('{REFUSED_WORD}' in content) = 0) NOT VALID"
        )
        try:

            class Bound(Batches):
                pass

            Bound.http, Bound.service, Bound.db = http, chat_service, db
            Bound.people, Bound.workspace = [world.owner, world.admin, world.member], world.a
            await _run(Bound)
            assert Batches.cuts > 0, "no round cut a writer's connection"
        finally:
            await db.execute(f"ALTER TABLE messages DROP CONSTRAINT {constraint}")


async def _run(machine: type[Batches]) -> None:
    bridge = Bridge(asyncio.get_running_loop(), timeout=120)

    def run() -> None:
        run_state_machine_as_test(
            lambda: machine(bridge),  # type: ignore[arg-type]  # a factory is accepted
            settings=machine_settings(),
        )

    await asyncio.to_thread(run)
