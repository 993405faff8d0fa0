"""Apply-events equivalence for the chat socket (reliability T10, the chat's part; the
board's is tests/board/test_apply_events.py).

A Hypothesis state machine has the participants of a group chat send (over REST or their
socket), edit, delete, react, unreact and read, in random order, against a real
``wealist serve chat`` process. Followers are socket clients that start from a snapshot
(REST history + the chat's read cursors), connect with ``?after=<its lastSeq>`` and apply
every frame they are sent; new followers join mid-walk from their own snapshot. After
every step, once a barrier frame went through the chat's channel after the step's events,
each connected follower's state must equal a fresh snapshot: the same live messages (text,
``updatedAt``, reactions) and the same read cursors.

Every frame that changes what a client shows carries the chat's gapless ``rev``: a
follower that started from a snapshot's ``lastRev`` must see each rev once, in order, none
missing. The other machines also disconnect followers and reconnect them, keeping their
state, as a client resuming does: with ``?rev=<the last rev they applied>`` (exactly what
they missed), or, as clients that only know message seqs, with ``?after=<the last seq they
saw>`` (the events since that message again: applying one twice changes nothing).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from websockets.asyncio.client import ClientConnection, connect

from tests.plugins.harness import ServiceProcess, TokenIssuer
from tests.properties.support import Bridge, run_machine
from tests.user.support import Actor, build_world

EMOJIS = ["👍", "🎉", "❤️"]
HISTORY_LIMIT = 100
MESSAGES_MAX = 80  # stay inside one history page
FRAME_WAIT_S = 10.0  # a barrier that has not arrived by then is lost
# frames that change nothing a snapshot shows
QUIET = {"pong", "heartbeat", "MESSAGE_ACK", "USER_TYPING", "TYPING_STOP"}


class Diverged(AssertionError):
    """A follower's state differs from a fresh snapshot."""


def token_of(actor: Actor) -> str:
    return actor.headers["Authorization"].removeprefix("Bearer ")


def reactions(found: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Reactions as emoji -> user ids in the order they reacted. The order of the emojis
    is left out: a snapshot lists them by their oldest current reaction, which a client
    cannot know after a removal (the frames carry no time)."""
    return {r["emoji"]: list(r["userIds"]) for r in found}


def shown(message: dict[str, Any]) -> dict[str, Any]:
    return {**message, "reactions": reactions(message.get("reactions", []))}


class State:
    """What a client shows: live messages by id, read cursors by user."""

    def __init__(self, messages: list[dict[str, Any]], chat: dict[str, Any]) -> None:
        self.messages = {m["messageId"]: shown(m) for m in messages}
        self.reads = {p["userId"]: p["lastReadSeq"] for p in chat["participants"] if p["isActive"]}
        self.last_seq: int = chat["lastSeq"]
        self.last_rev: int = chat["lastRev"]

    def view(self) -> tuple[dict[str, Any], dict[str, int]]:
        return self.messages, self.reads


class Follower:
    """A socket client: a snapshot, then every frame it is sent, applied."""

    def __init__(self, name: str, actor: Actor, state: State, *, by_seq: bool) -> None:
        self.name = name
        self.actor = actor
        self.state = state
        self.seq = state.last_seq  # the newest message seq seen
        self.rev = state.last_rev  # the newest event applied
        self.by_seq = by_seq  # resumes with ?after=<seq> (events may come twice)
        self.ws: ClientConnection | None = None
        self.applied = 0

    def __repr__(self) -> str:
        where = "connected" if self.ws is not None else "away"
        return (
            f"Follower({self.name}, {where}, seq={self.seq}, rev={self.rev},"
            f" applied={self.applied})"
        )

    async def connect(self, base: str, chat_id: str) -> None:
        resume = f"after={self.seq}" if self.by_seq else f"rev={self.rev}"
        url = f"{base}/api/chats/ws/{chat_id}?token={token_of(self.actor)}&{resume}"
        self.ws = await connect(url, max_size=None, open_timeout=10)

    async def close(self) -> None:
        if self.ws is not None:
            ws, self.ws = self.ws, None
            await ws.close()

    async def send(self, frame: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps(frame))

    async def read_until(self, wanted: str) -> dict[str, Any]:
        """Apply frames until one of type ``wanted`` arrives (returned)."""
        assert self.ws is not None
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), FRAME_WAIT_S)
            frame: dict[str, Any] = json.loads(raw)
            self.apply(frame)
            if frame["type"] == wanted:
                return frame

    def apply(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        messages, reads = self.state.messages, self.state.reads
        if kind in QUIET:
            return
        self.applied += 1
        rev = frame.get("rev")
        assert rev is not None, (self, frame)  # every change is an event of the chat
        if not self.by_seq:
            assert rev == self.rev + 1, (self, frame)  # in order, never twice, none missing
        self.rev = max(self.rev, rev)
        if kind == "MESSAGE_RECEIVED":
            assert frame["seq"] > self.seq, (self, frame["seq"])  # in order, never twice
            self.seq = frame["seq"]
            message = frame["message"]
            messages[message["messageId"]] = shown(message)
        elif kind == "MESSAGE_UPDATED":
            message = frame["message"]
            messages[message["messageId"]] = shown(message)
        elif kind == "MESSAGE_DELETED":
            messages.pop(frame["messageId"], None)
        elif kind in ("REACTION_ADDED", "REACTION_REMOVED"):
            message = messages.get(frame["messageId"])
            if message is None:
                return
            users = message["reactions"].setdefault(frame["emoji"], [])
            if kind == "REACTION_ADDED" and frame["userId"] not in users:
                users.append(frame["userId"])
            elif kind == "REACTION_REMOVED" and frame["userId"] in users:
                users.remove(frame["userId"])
            if not users:
                del message["reactions"][frame["emoji"]]
        elif kind == "MESSAGE_READ":
            reads[frame["userId"]] = max(reads.get(frame["userId"], 0), frame["seq"])
        else:  # ERROR, RESET, membership changes: none of them is expected here
            raise AssertionError(f"{self}: unexpected frame {frame}")


class ChatWalk(RuleBasedStateMachine):
    http: httpx.AsyncClient
    service: ServiceProcess
    people: list[Actor]
    workspace: str

    def __init__(self, bridge: Bridge) -> None:
        super().__init__()
        self.run = bridge
        self.chat_id = ""
        self.followers: list[Follower] = []
        self.truth: State | None = None
        self.last_socket: Follower | None = None  # the socket a step acted through

    resume_by_seq = False  # followers reconnect with ?after=<seq> instead of ?rev=<rev>

    # --- helpers ----------------------------------------------------------------------

    def call(self, actor: Actor, method: str, path: str, **kwargs: Any) -> httpx.Response:
        kwargs.setdefault("headers", {}).update(actor.headers)
        return self.run(self.http.request(method, path, **kwargs))

    async def snapshot(self, actor: Actor) -> State:
        headers = actor.headers
        history = await self.http.get(
            f"/api/chats/messages/{self.chat_id}",
            params={"after": 0, "limit": HISTORY_LIMIT},
            headers=headers,
        )
        assert history.status_code == 200, history.text
        chat = await self.http.get(f"/api/chats/{self.chat_id}", headers=headers)
        assert chat.status_code == 200, chat.text
        return State(history.json()["message"], chat.json()["message"])

    def may_change(self) -> bool:
        """Edits, deletes, reactions and reads may happen now (the walk has begun)."""
        return self.truth is not None

    def connected(self) -> list[Follower]:
        return [f for f in self.followers if f.ws is not None]

    def messages(self) -> list[dict[str, Any]]:
        assert self.truth is not None
        return sorted(self.truth.messages.values(), key=lambda m: m["seq"])

    def person(self, data: st.DataObject, among: list[Actor] | None = None) -> Actor:
        """A participant, drawn by name (that is what a failing walk prints)."""
        by_name = {p.name: p for p in among or self.people}
        return by_name[data.draw(st.sampled_from(sorted(by_name)), label="who")]

    def message_of(
        self, data: st.DataObject, author: Actor | None = None, *, reacted: bool = False
    ) -> dict[str, Any]:
        found = {
            f"seq {m['seq']}": m
            for m in self.messages()
            if (author is None or m["userId"] == author.user_id) and (m["reactions"] or not reacted)
        }
        return found[data.draw(st.sampled_from(list(found)), label="message")]

    def authors(self) -> list[Actor]:
        ids = {m["userId"] for m in self.messages()}
        return [p for p in self.people if p.user_id in ids]

    async def barrier(self) -> None:
        """A typing frame sent after the step's events (through the socket the step used,
        whose frames are handled in order): every connected follower has applied all of
        the step's events once it has read it, since one channel carries them all."""
        sockets = self.connected()
        if not sockets:
            return
        via = self.last_socket if self.last_socket in sockets else sockets[0]
        assert via is not None
        await via.send({"type": "TYPING_START"})
        await asyncio.gather(*(f.read_until("USER_TYPING") for f in sockets))

    async def join(self, name: str, actor: Actor) -> None:
        state = await self.snapshot(actor)
        follower = Follower(name, actor, state, by_seq=self.resume_by_seq)
        await follower.connect(self.service.ws_url, self.chat_id)
        self.followers.append(follower)
        self.last_socket = follower
        await self.barrier()  # it is subscribed: it hears its own typing

    # --- rules ------------------------------------------------------------------------

    @initialize()
    def open_chat(self) -> None:
        owner, *others = self.people
        body = {
            "workspaceId": self.workspace,
            "chatType": "GROUP",
            "chatName": f"walk {uuid.uuid4().hex[:6]}",
            "participants": [o.user_id for o in others],
        }
        made = self.call(owner, "POST", "/api/chats", json=body)
        assert made.status_code == 201, made.text
        self.chat_id = made.json()["chatId"]
        self.run(self.join("f0", owner))

    @precondition(lambda self: len(self.followers) < 4)
    @rule(data=st.data())
    def new_follower(self, data: st.DataObject) -> None:
        """A client joining mid-walk from its own snapshot (interleaved snapshot fetches)."""
        self.run(self.join(f"f{len(self.followers)}", self.person(data)))

    @precondition(lambda self: self.truth is not None and len(self.truth.messages) < MESSAGES_MAX)
    @rule(data=st.data())
    def send_rest(self, data: st.DataObject) -> None:
        who = self.person(data)
        body = {"content": f"hello {uuid.uuid4().hex[:6]}"}
        sent = self.call(who, "POST", f"/api/chats/messages/{self.chat_id}", json=body)
        assert sent.status_code == 201, sent.text

    @precondition(
        lambda self: (
            self.connected() and self.truth is not None and len(self.truth.messages) < MESSAGES_MAX
        )
    )
    @rule(data=st.data())
    def send_socket(self, data: st.DataObject) -> None:
        follower = data.draw(st.sampled_from(self.connected()), label="socket")
        key = uuid.uuid4().hex
        frame = {"type": "MESSAGE", "content": f"typed {key[:6]}", "clientMessageId": key}

        async def send() -> None:
            await follower.send(frame)
            ack = await follower.read_until("MESSAGE_ACK")
            assert ack["clientMessageId"] == key, ack

        self.run(send())
        self.last_socket = follower

    @precondition(lambda self: self.may_change() and self.truth.messages)
    @rule(data=st.data())
    def edit(self, data: st.DataObject) -> None:
        who = self.person(data, self.authors())
        message = self.message_of(data, who)
        body = {"content": f"edited {uuid.uuid4().hex[:6]}"}
        edited = self.call(who, "PUT", f"/api/chats/messages/{message['messageId']}", json=body)
        assert edited.status_code == 200, edited.text

    @precondition(lambda self: self.may_change() and self.truth.messages)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        who = self.person(data, self.authors())
        message = self.message_of(data, who)
        gone = self.call(who, "DELETE", f"/api/chats/messages/{message['messageId']}")
        assert gone.status_code == 204, gone.text

    @precondition(lambda self: self.may_change() and self.truth.messages)
    @rule(data=st.data())
    def react(self, data: st.DataObject) -> None:
        who, message = self.person(data), self.message_of(data)
        emoji = data.draw(st.sampled_from(EMOJIS), label="emoji")
        path = f"/api/chats/messages/{message['messageId']}/reactions"
        added = self.call(who, "POST", path, json={"emoji": emoji})
        assert added.status_code == 200, added.text

    @precondition(
        lambda self: self.may_change() and any(m["reactions"] for m in self.truth.messages.values())
    )
    @rule(data=st.data())
    def unreact(self, data: st.DataObject) -> None:
        message = self.message_of(data, reacted=True)
        emoji = data.draw(st.sampled_from(sorted(message["reactions"])), label="emoji")
        who = self.person(
            data, [p for p in self.people if p.user_id in message["reactions"][emoji]]
        )
        path = f"/api/chats/messages/{message['messageId']}/reactions/{emoji}"
        removed = self.call(who, "DELETE", path)
        assert removed.status_code == 204, removed.text

    @precondition(lambda self: self.may_change() and self.truth.messages)
    @rule(data=st.data())
    def read_rest(self, data: st.DataObject) -> None:
        who, message = self.person(data), self.message_of(data)
        body = {"messageIds": [message["messageId"]]}
        read = self.call(who, "POST", "/api/chats/messages/read", json=body)
        assert read.status_code == 200, read.text

    @precondition(lambda self: self.connected() and self.may_change() and self.truth.messages)
    @rule(data=st.data())
    def read_socket(self, data: st.DataObject) -> None:
        follower = data.draw(st.sampled_from(self.connected()), label="socket")
        message = self.message_of(data)
        self.run(follower.send({"type": "READ_MESSAGE", "messageId": message["messageId"]}))
        self.last_socket = follower  # the barrier goes after it, on the same socket

    @precondition(lambda self: self.may_change())
    @rule(data=st.data())
    def read_all(self, data: st.DataObject) -> None:
        read = self.call(self.person(data), "PUT", f"/api/chats/messages/{self.chat_id}/last-read")
        assert read.status_code == 200, read.text

    # --- the property -----------------------------------------------------------------

    @invariant()
    def followers_equal_a_fresh_snapshot(self) -> None:
        if not self.chat_id:
            return
        self.run(self.barrier())
        self.last_socket = None
        self.truth = self.run(self.snapshot(self.people[0]))
        truth = (self.truth.view(), self.truth.last_seq, self.truth.last_rev)
        for follower in self.connected():
            # what it shows, and where it would resume from (one check, one kind of
            # failure: Hypothesis reports each distinct failure separately)
            mine = (follower.state.view(), follower.seq, follower.rev)
            if mine != truth:
                raise Diverged(f"{follower} != snapshot:\n{mine}\n{truth}")

    def teardown(self) -> None:
        for follower in self.followers:
            self.run(follower.close())


class ChatWalkWithReconnects(ChatWalk):
    """The same walk with clients going away and resuming with ``?rev=<rev>``."""

    @precondition(lambda self: len(self.connected()) > 1)
    @rule(data=st.data())
    def disconnect(self, data: st.DataObject) -> None:
        follower = data.draw(st.sampled_from(self.connected()), label="leaves")
        self.run(follower.close())

    @precondition(lambda self: len(self.connected()) < len(self.followers))
    @rule(data=st.data())
    def reconnect(self, data: st.DataObject) -> None:
        away = [f for f in self.followers if f.ws is None]
        follower = data.draw(st.sampled_from(away), label="resumes")

        async def resume() -> None:
            await follower.connect(self.service.ws_url, self.chat_id)
            self.last_socket = follower
            await self.barrier()

        self.run(resume())


class ChatWalkResumingBySeq(ChatWalkWithReconnects):
    """Reconnects with ``?after=<seq>``, as clients that only know message seqs do."""

    resume_by_seq = True


async def _walk(
    machines: list[tuple[type[ChatWalk], str]],
    chat_service: ServiceProcess,
    users: httpx.AsyncClient,
    issuer: TokenIssuer,
) -> None:
    world = await build_world(users, issuer)
    async with httpx.AsyncClient(base_url=chat_service.url, timeout=10) as http:
        for machine, prop in machines:

            class Bound(machine):  # type: ignore[valid-type,misc]
                pass

            Bound.http, Bound.service = http, chat_service
            Bound.people, Bound.workspace = [world.owner, world.admin, world.member], world.a
            await run_machine(Bound, prop)


@pytest.mark.slow
async def test_chat_snapshot_plus_events_equals_a_fresh_snapshot(
    chat_service: ServiceProcess, users: httpx.AsyncClient, issuer: TokenIssuer
) -> None:
    """Live followers, and followers that resume with ``?after=<seq>`` (one test: the
    processes are started once for both)."""
    machines = [(ChatWalk, "chat"), (ChatWalkResumingBySeq, "chat_resume")]
    await _walk(machines, chat_service, users, issuer)


@pytest.mark.slow
async def test_chat_state_survives_reconnects_with_rev(
    chat_service: ServiceProcess, users: httpx.AsyncClient, issuer: TokenIssuer
) -> None:
    await _walk([(ChatWalkWithReconnects, "chat_reconnect")], chat_service, users, issuer)
