"""T05 and T06 (reliability.md): resuming a sequenced stream on another process.

T05 (chat and board): a receiver leaves while messages (events) arrive, then resumes on
the *other* process with ``after=<last seq>`` while more stream live. Pass: it ends with
exactly what it missed plus the live ones, in order, with no duplicate at the boundary
between replay and live.

T06 (chat and board): a receiver resumes from further back than the server replays.
Pass: an explicit reset (chat ``RESET``/``lastSeq``, board ``reset``/``currentSeq``) and
no partial replay; a refetch over REST then equals what is stored, and the socket follows
live from there. A resume within the window is replayed frame by frame (never one
unbounded frame).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.board.support import unwrap
from tests.chaos.clients import FollowingSocket
from tests.chaos.conftest import Cluster, Node, size
from tests.chaos.test_t01_kill import chat_url
from tests.chat.support import create_chat, token_of
from tests.core.realtime.waiting import eventually
from tests.plugins.harness import ServiceProcess
from tests.user.support import Actor, World

pytestmark = pytest.mark.slow

CHAT = {"ws_heartbeat_s": 1, "gap_wait_s": 0.05, "tail_cache_s": 0.2}


async def post_messages(http: httpx.AsyncClient, node: Node, by: Actor, chat: str, n: int) -> None:
    for _ in range(n):
        r = await http.post(
            f"{node.url}/api/chats/messages/{chat}", json={"content": "hi"}, headers=by.headers
        )
        assert r.status_code == 201, r.text


def board_url(actor: Actor, project: str) -> Any:
    def url(proc: ServiceProcess, after: int) -> str:
        return f"{proc.ws_url}/ws/project/{project}?token={token_of(actor)}&after={after}"

    return url


async def new_project(http: httpx.AsyncClient, node: Node, world: World) -> str:
    r = await http.post(
        f"{node.url}/api/projects",
        json={"workspaceId": world.a, "name": "Chaos"},
        headers=world.owner.headers,
    )
    project: str = unwrap(r, 201)["projectId"]
    return project


async def add_cards(http: httpx.AsyncClient, node: Node, by: Actor, project: str, n: int) -> None:
    for i in range(n):
        r = await http.post(
            f"{node.url}/api/boards",
            json={"projectId": project, "title": f"card {i}"},
            headers=by.headers,
        )
        unwrap(r, 201)


async def project_last_seq(database: Any, project: str) -> int:
    async with database("board") as db:
        cur = await db.execute(
            "SELECT coalesce(max(seq), 0) FROM board_events WHERE project_id = %s", (project,)
        )
        row = await cur.fetchone()
    return int(row[0])


async def chat_last_seq(database: Any, chat: str) -> int:
    async with database("chat") as db:
        cur = await db.execute("SELECT last_seq FROM chats WHERE id = %s", (chat,))
        row = await cur.fetchone()
    return int(row[0])


async def resume_while_streaming(
    socket: FollowingSocket, produce_missed: Any, produce_live: Any, last: Any
) -> tuple[int, int]:
    """The T05 choreography on one socket; returns (seqs before leaving, seqs at the end)."""
    await asyncio.wait_for(socket.connected.wait(), 30)
    await produce_live()  # seen live on the home process
    wanted = await last()
    await eventually(lambda: socket.transcript.last == wanted, timeout=30)
    left_at = socket.transcript.last
    socket.home = 1 - socket.home  # come back on the other process
    socket.pause()
    await socket.drop()
    await produce_missed()  # while the client is away
    socket.resume()
    await asyncio.gather(produce_live(), asyncio.wait_for(socket.connected.wait(), 30))
    return left_at, socket.transcript.last


async def test_t05_chat_resume_on_the_other_process_while_messages_stream(
    cluster: Cluster, world: World, database: Any, report: Any
) -> None:
    missed, live = size(40, 500), size(20, 200)
    a = await cluster.start("chat", **CHAT)
    b = await cluster.start("chat", **CHAT)
    async with httpx.AsyncClient(base_url=a.url, timeout=15) as http:
        chat = (await create_chat(http, world.owner, world.a, [world.member]))["chatId"]

        async def burst(n: int, node: Node) -> None:
            await post_messages(http, node, world.owner, chat, n)

        socket = FollowingSocket(chat_url(world.member, chat), [a.proc, b.proc], home=0).start()
        try:
            left_at, _ = await resume_while_streaming(
                socket,
                lambda: burst(missed, a),
                lambda: burst(live, b),
                lambda: chat_last_seq(database, chat),
            )
            total = missed + 2 * live
            await eventually(lambda: socket.transcript.last == total, timeout=60)
        finally:
            await socket.stop()
    transcript = socket.transcript
    assert left_at == live
    assert transcript.seqs == list(range(1, total + 1))
    assert transcript.duplicates == transcript.gaps == transcript.resets == []
    report("T05", stream="chat", missed=missed, live=live, duplicates=0, lost=0)


async def test_t05_board_resume_on_the_other_process_while_events_stream(
    cluster: Cluster, world: World, database: Any, report: Any
) -> None:
    missed, live = size(30, 500), size(15, 200)
    a = await cluster.start("board", ws_heartbeat_s=1)
    b = await cluster.start("board", ws_heartbeat_s=1)
    async with httpx.AsyncClient(timeout=15) as http:
        project = await new_project(http, a, world)
        socket = FollowingSocket(board_url(world.owner, project), [a.proc, b.proc]).start()
        try:
            left_at, _ = await resume_while_streaming(
                socket,
                lambda: add_cards(http, a, world.owner, project, missed),
                lambda: add_cards(http, b, world.owner, project, live),
                lambda: project_last_seq(database, project),
            )
            last = await project_last_seq(database, project)
            await eventually(lambda: socket.transcript.last == last, timeout=60)
        finally:
            await socket.stop()
    transcript = socket.transcript
    assert left_at >= live  # it followed live events before it left
    assert last >= missed + 2 * live
    assert transcript.seqs == list(range(1, last + 1))
    assert transcript.duplicates == transcript.gaps == transcript.resets == []
    report("T05", stream="board", missed=missed, live=live, events=last, duplicates=0, lost=0)


class Frames:
    """Every non-heartbeat frame a socket got, tagged with the connection it came on."""

    def __init__(self, socket: FollowingSocket) -> None:
        self.socket = socket
        self.seen: list[tuple[int, dict[str, Any]]] = []
        socket.on_frame = self.take

    def take(self, frame: dict[str, Any]) -> None:
        if frame.get("type") not in ("heartbeat", "pong"):
            self.seen.append((self.socket.reconnects, frame))

    def on_connection(self, index: int) -> list[dict[str, Any]]:
        return [f for n, f in self.seen if n == index]


async def chat_history(http: httpx.AsyncClient, node: Node, by: Actor, chat: str) -> list[int]:
    """The whole history over REST, page by page (what the app refetches after RESET)."""
    seqs: list[int] = []
    while True:
        r = await http.get(
            f"{node.url}/api/chats/messages/{chat}",
            params={"after": seqs[-1] if seqs else 0, "limit": 100},
            headers=by.headers,
        )
        assert r.status_code == 200, r.text
        page = [m["seq"] for m in r.json()["message"]]
        if not page:
            return seqs
        seqs += page


async def away_while(socket: FollowingSocket, produce: Any) -> int:
    """The client leaves, ``produce`` runs, the client resumes; the connection it resumes on."""
    socket.pause()
    await socket.drop()
    await eventually(lambda: not socket.connected.is_set(), timeout=10)
    await produce()
    socket.resume()
    await asyncio.wait_for(socket.connected.wait(), 30)
    return socket.reconnects


async def test_t06_chat_resume_beyond_the_replay_window_gets_reset_never_a_partial_replay(
    cluster: Cluster, world: World, database: Any, report: Any
) -> None:
    window, far = size(20, 1000), size(50, 10_000)
    a = await cluster.start("chat", replay_max=window, **CHAT)
    async with httpx.AsyncClient(base_url=a.url, timeout=15) as http:
        chat = (await create_chat(http, world.owner, world.a, [world.member]))["chatId"]
        socket = FollowingSocket(chat_url(world.member, chat), [a.proc]).start()
        frames = Frames(socket)
        try:
            await asyncio.wait_for(socket.connected.wait(), 30)
            await post_messages(http, a, world.owner, chat, 5)
            await eventually(lambda: socket.transcript.last == 5, timeout=30)
            # Within the window: each missed message replayed as its own frame, in order.
            inside = await away_while(
                socket, lambda: post_messages(http, a, world.owner, chat, window)
            )
            await eventually(lambda: socket.transcript.last == 5 + window, timeout=30)
            replayed = [f["seq"] for f in frames.on_connection(inside)]
            assert replayed == list(range(6, 6 + window))
            # Beyond it: the first thing on the new connection is RESET, nothing partial.
            before = socket.transcript.last
            beyond = await away_while(
                socket, lambda: post_messages(http, a, world.owner, chat, far)
            )
            last = await chat_last_seq(database, chat)
            await eventually(lambda: frames.on_connection(beyond), timeout=30)
            first = frames.on_connection(beyond)[0]
            # only messages in this chat: one event each, so lastRev == lastSeq
            assert first == {
                "type": "RESET",
                "reason": "too_far_behind",
                "lastSeq": last,
                "lastRev": last,
            }
            # The app refetches over REST: that equals what is stored...
            assert await chat_history(http, a, world.member, chat) == list(range(1, last + 1))
            # ...and the socket follows live from lastSeq on.
            await post_messages(http, a, world.owner, chat, 3)
            await eventually(lambda: socket.transcript.last == last + 3, timeout=30)
            after_reset = [f.get("seq") for f in frames.on_connection(beyond)[1:]]
        finally:
            await socket.stop()
    assert after_reset == [last + 1, last + 2, last + 3]
    assert socket.transcript.duplicates == socket.transcript.gaps == []
    report(
        "T06",
        stream="chat",
        window=window,
        missed=far,
        reset_at=last,
        partial_frames=0,
        first_frame_after_resume=first["type"],
        missed_before=last - before,
    )


async def test_t06_board_resume_beyond_the_replay_window_gets_reset(
    cluster: Cluster, world: World, database: Any, report: Any
) -> None:
    window, far = size(15, 1000), size(40, 2000)
    a = await cluster.start("board", replay_limit=window, ws_heartbeat_s=1)
    async with httpx.AsyncClient(timeout=15) as http:
        project = await new_project(http, a, world)
        socket = FollowingSocket(board_url(world.owner, project), [a.proc]).start()
        frames = Frames(socket)
        try:
            await asyncio.wait_for(socket.connected.wait(), 30)
            beyond = await away_while(socket, lambda: add_cards(http, a, world.owner, project, far))
            last = await project_last_seq(database, project)
            await eventually(lambda: frames.on_connection(beyond), timeout=30)
            first = frames.on_connection(beyond)[0]
            r = await http.get(f"{a.url}/api/boards/project/{project}", headers=world.owner.headers)
            cards = unwrap(r)
        finally:
            await socket.stop()
    assert first["type"] == "reset"
    assert first["currentSeq"] == last
    assert [
        f for f in frames.on_connection(beyond) if "seq" in f and f.get("type") != "reset"
    ] == []
    assert sorted(c["title"] for c in cards) == sorted(f"card {i}" for i in range(far))
    report("T06", stream="board", window=window, missed=far, reset_at=last, partial_frames=0)
