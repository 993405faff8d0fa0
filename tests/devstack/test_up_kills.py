"""``wealist up`` keeps the stack running when one of its processes is killed (issue 18).

A real ``wealist up``; two chat senders and an observer in one chat, and a board writer,
work all along. Then, with SIGKILL:

1. the chat service's Granian worker (a child of the service process): Granian starts
   another, the service process stays, and ``up`` says so;
2. the board service's whole process group (its main process and its worker): ``up``
   says so and starts it again (with the first step of its backoff);
3. the chat service's main process alone: its worker, left serving with nobody to
   supervise it and holding the port, is cleared away by ``up``, which restarts chat.

Meanwhile a prober asks every other service (``/health/live``) and the gateway (its own
``/health`` and two services through it) over and over: not one probe may fail. At the
end every acked chat message is stored once with gapless seqs, every client (resuming
with ``?after=<seq>``) was handed each of them exactly once, and every acked board write
is stored exactly once. Deadlines are generous and only ever fail the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import httpx
import psycopg
import pytest

from tests.chaos.clients import ChatSender, FollowingSocket
from tests.devstack.support import Up, service_ports
from tests.plugins.harness import ServiceProcess
from tests.user.support import Actor
from wealist.core.settings import with_database

pytestmark = [
    pytest.mark.slow,
    # Killed processes cut the clients' sockets mid-flight: a transport the garbage
    # collector finalizes is not a failure here (the ids and seqs checked below are).
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

PASSWORD = "correct horse battery staple"
DEADLINE_S = 120.0  # for anything to happen; only ever used to fail
# Never killed: these must answer every probe while the others die and come back.
STEADY = ("auth", "user", "noti", "storage", "video", "ops")
THROUGH_GATEWAY = ("/health", "/api/svc/user/health/live", "/api/svc/noti/health/live")


def children(pid: int) -> set[int]:
    found: set[int] = set()
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found.update(int(p) for p in (task / "children").read_text().split())
    return found


def running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def service_pid(up: Up, name: str) -> int:
    """The ``wealist serve <name>`` process ``up`` runs now (its child)."""
    for pid in children(up.proc.pid):
        with contextlib.suppress(OSError):
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if b"serve" in argv and name.encode() in argv:
                return pid
    raise AssertionError(f"no {name} service process under up:\n{up.output}")


@dataclass
class Waiter:
    """Waits for something to happen while ``up`` and the clients' tasks run on."""

    up: Up
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def until(self, what: str, check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while not check():
            for task in self.tasks:
                if task.done():
                    task.result()  # a client that gave up: its error, not a timeout
                    pytest.fail(f"a client stopped while waiting for {what}")
            if time.monotonic() > deadline or self.up.proc.poll() is not None:
                pytest.fail(f"waited in vain for {what}; up's output:\n{self.up.output}")
            await asyncio.sleep(0.1)


@dataclass
class Prober:
    """Asks each URL in turn, over and over, on its own thread; keeps every failure."""

    urls: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    answered: dict[str, int] = field(default_factory=dict)
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        # Generous timeout: a slow answer on a loaded machine is an answer.
        with httpx.Client(timeout=15.0) as client:
            while not self.stopping.is_set():
                for url in self.urls:
                    try:
                        answer = client.get(url)
                    except httpx.HTTPError as exc:
                        self.failures.append((url, repr(exc)))
                        continue
                    if answer.status_code != 200:
                        self.failures.append((url, f"{answer.status_code} {answer.text[:200]}"))
                    else:
                        self.answered[url] = self.answered.get(url, 0) + 1
                self.stopping.wait(0.25)  # the gateway allows 20 requests/s per address

    def rounds(self) -> int:
        return min((self.answered.get(url, 0) for url in self.urls), default=0)


@dataclass
class BoardWriter:
    """Creates cards one after another; an answer 201 is an ack. A write whose answer was
    lost is not retried (its outcome is unknown: stored once or not at all)."""

    client: httpx.AsyncClient
    owner: Actor
    project: str
    acked: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    stopping: bool = False

    async def run(self) -> None:
        n = 0
        while not self.stopping:
            n += 1
            title = f"up-kill card {n}"
            try:
                answer = await self.client.post(
                    "/api/boards",
                    json={"projectId": self.project, "title": title},
                    headers=self.owner.headers,
                )
            except httpx.HTTPError:
                self.unknown.append(title)
            else:
                (self.acked if answer.status_code == 201 else self.unknown).append(title)
            await asyncio.sleep(0.1)


async def signup(auth: httpx.AsyncClient, tag: str) -> Actor:
    email = f"{tag}-{os.urandom(4).hex()}@example.com"
    answer = await auth.post(
        "/api/auth/signup", json={"email": email, "password": PASSWORD, "name": tag.title()}
    )
    assert answer.status_code == 201, answer.text
    pair = answer.json()
    return Actor(tag, pair["userId"], email, {"Authorization": f"Bearer {pair['accessToken']}"})


async def send_until(sender: ChatSender, tag: str, stop: asyncio.Event) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        await sender.send(f"{tag}:{n}", f"message {n} from {tag}", ack_timeout=15)
        await asyncio.sleep(0.05)


async def test_killed_worker_and_service_come_back_alone_and_nothing_acked_is_lost(
    data_dir: Path,
) -> None:
    ports = service_ports()
    up = Up(data_dir, ports, "--exit-after", "900")
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    wait = Waiter(up)
    tasks = wait.tasks
    sockets: list[FollowingSocket] = []
    prober = Prober()
    try:
        up.wait_ready()
        gateway = up.table("gateway")
        pg_url = up.table("postgres")
        async with (
            httpx.AsyncClient(base_url=url["auth"], timeout=30) as auth,
            httpx.AsyncClient(base_url=url["user"], timeout=30) as users,
            httpx.AsyncClient(base_url=url["chat"], timeout=30) as chat,
            httpx.AsyncClient(base_url=url["board"], timeout=30) as board,
        ):
            owner, first, second = [await signup(auth, tag) for tag in ("owner", "ann", "bob")]
            made = await users.post(
                "/api/workspaces/create", json={"workspaceName": "Up kills"}, headers=owner.headers
            )
            assert made.status_code == 201, made.text
            workspace = made.json()["workspaceId"]
            for actor in (first, second):
                invited = await users.post(
                    f"/api/workspaces/{workspace}/members/invite",
                    json={"email": actor.email, "roleName": "MEMBER"},
                    headers=owner.headers,
                )
                assert invited.status_code == 201, invited.text
            room = await chat.post(
                "/api/chats",
                json={
                    "workspaceId": workspace,
                    "chatType": "GROUP",
                    "chatName": "Kill room",
                    "participants": [first.user_id, second.user_id],
                },
                headers=owner.headers,
            )
            assert room.status_code in (200, 201), room.text
            chat_id = room.json()["chatId"]
            project = await board.post(
                "/api/projects",
                json={"workspaceId": workspace, "name": "Kill plans"},
                headers=owner.headers,
            )
            assert project.status_code == 201, project.text
            project_id = project.json()["data"]["projectId"]

            # The chat service's address, for clients that follow it across the kills.
            endpoint = ServiceProcess(
                "chat",
                ports["chat"],
                cast("subprocess.Popen[bytes]", up.proc),
                data_dir / "logs" / "chat.log",
            )

            def url_of(actor: Actor) -> Callable[[ServiceProcess, int], str]:
                token = actor.headers["Authorization"].removeprefix("Bearer ")

                def at(proc: ServiceProcess, after: int) -> str:
                    return f"{proc.ws_url}/api/chats/ws/{chat_id}?token={token}&after={after}"

                return at

            senders = [
                ChatSender(FollowingSocket(url_of(actor), [endpoint]).start())
                for actor in (first, second)
            ]
            observer = FollowingSocket(url_of(owner), [endpoint]).start()
            sockets = [*(s.socket for s in senders), observer]
            for socket in sockets:
                await asyncio.wait_for(socket.connected.wait(), DEADLINE_S)
            writer = BoardWriter(board, owner, project_id)
            stop_sending = asyncio.Event()
            tasks += [
                asyncio.create_task(send_until(s, f"s{i}", stop_sending))
                for i, s in enumerate(senders)
            ]
            tasks.append(asyncio.create_task(writer.run()))

            def acks_beyond(counts: list[int], more: int) -> Callable[[], bool]:
                pairs = list(zip(senders, counts, strict=True))
                return lambda: all(len(s.acks) >= n + more for s, n in pairs)

            await wait.until("the first chat acks", acks_beyond([0, 0], 5))
            await wait.until("the first board acks", lambda: len(writer.acked) >= 3)
            prober.urls = [f"{url[name]}/health/live" for name in STEADY]
            prober.urls += [f"{gateway}{path}" for path in THROUGH_GATEWAY]
            prober.thread.start()
            await wait.until("a first round of probes", lambda: prober.rounds() >= 1)

            # 1. The chat service's worker.
            chat_main = service_pid(up, "chat")
            (worker,) = children(chat_main)
            os.kill(worker, signal.SIGKILL)
            replaced = f"chat: worker {worker} exited; Granian is starting another"
            await wait.until(replaced, lambda: replaced in up.lines)
            await wait.until(
                "chat ready again",
                lambda: "chat: ready again" in up.lines[up.lines.index(replaced) :],
            )
            assert service_pid(up, "chat") == chat_main  # the service process stayed
            respawned = children(chat_main)
            assert len(respawned) == 1
            assert worker not in respawned
            counts = [len(s.acks) for s in senders]
            await wait.until("chat acks after the worker kill", acks_beyond(counts, 5))

            # 2. The board service: its main process and its worker at once.
            board_main = service_pid(up, "board")
            os.killpg(board_main, signal.SIGKILL)
            restarting = "board: exited (signal 9, SIGKILL); restarting in 0.5 s (restart 1)"
            await wait.until(restarting, lambda: restarting in up.lines)
            back = "board: ready again (restart 1)"
            await wait.until(back, lambda: back in up.lines)
            assert service_pid(up, "board") != board_main
            written = len(writer.acked)
            await wait.until("board acks after it", lambda: len(writer.acked) >= written + 3)
            counts = [len(s.acks) for s in senders]
            await wait.until("chat acks after the board restart", acks_beyond(counts, 3))

            # 3. The chat service's main process alone: its worker lives on, orphaned.
            chat_main = service_pid(up, "chat")
            (orphan,) = children(chat_main)
            os.kill(chat_main, signal.SIGKILL)
            restarting = "chat: exited (signal 9, SIGKILL); restarting in 0.5 s (restart 1)"
            await wait.until(restarting, lambda: restarting in up.lines)
            back = "chat: ready again (restart 1)"
            await wait.until(back, lambda: back in up.lines)
            assert not running(orphan)
            assert service_pid(up, "chat") != chat_main
            counts = [len(s.acks) for s in senders]
            await wait.until("chat acks after the chat restart", acks_beyond(counts, 5))
            rounds = prober.rounds()
            await wait.until("probes after the kills", lambda: prober.rounds() >= rounds + 2)

            stop_sending.set()
            writer.stopping = True
            await asyncio.wait_for(asyncio.gather(*tasks), DEADLINE_S)
            prober.stopping.set()
            prober.thread.join(30)

            with psycopg.connect(with_database(pg_url, "chat_db")) as conn:
                rows = conn.execute(
                    "SELECT seq, client_message_id, id::text FROM messages"
                    " WHERE chat_id = %s ORDER BY seq",
                    (chat_id,),
                ).fetchall()
            last = rows[-1][0] if rows else 0
            await wait.until(
                "every client caught up",
                lambda: all(s.transcript.last == last for s in sockets),
            )
            with psycopg.connect(with_database(pg_url, "board_db")) as conn:
                stored = conn.execute(
                    "SELECT title, count(*) FROM boards WHERE project_id = %s GROUP BY title",
                    (project_id,),
                ).fetchall()
        assert up.proc.poll() is None, up.output  # nothing stopped the stack
    finally:
        for task in tasks:
            task.cancel()
        for socket in sockets:
            await socket.stop()
        prober.stopping.set()
        if up.proc.poll() is None:
            up.proc.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                up.wait_exit(120)
        code = up.proc.poll()
        up.cleanup()

    assert prober.failures == [], prober.failures
    assert code == 0, up.output
    assert "stopping..." in up.output
    assert "postgres: stopped" in up.output
    assert [line for line in up.lines if "Granian is starting another" in line] == [replaced]
    assert [line for line in up.lines if ": exited" in line] == [
        "board: exited (signal 9, SIGKILL); restarting in 0.5 s (restart 1)",
        "chat: exited (signal 9, SIGKILL); restarting in 0.5 s (restart 1)",
    ]

    # Chat: every acked message stored once, seqs 1..N, and nothing stored that was not
    # acked (each send was retried with its clientMessageId until its ack came).
    assert [row[0] for row in rows] == list(range(1, len(rows) + 1))
    acked = {cid: tuple(ack) for s in senders for cid, ack in s.acks.items()}
    assert {cid: (mid, seq) for seq, cid, mid in rows} == acked
    assert len(rows) == len(acked) >= 20
    for socket in sockets:  # each was handed every message exactly once, in order
        assert socket.transcript.duplicates == []
        assert socket.transcript.gaps == []
        assert socket.transcript.resets == []
        assert socket.transcript.seqs == list(range(1, last + 1))
    assert all(s.reconnects for s in sockets)  # the worker kill really cut every socket

    # Board: every acked card stored exactly once; anything else stored was a write whose
    # answer the kill cut.
    counted: dict[str, int] = dict(stored)
    assert [n for n in counted.values() if n != 1] == []
    assert set(writer.acked) <= set(counted)
    assert set(counted) <= set(writer.acked) | set(writer.unknown)

    logs = data_dir / "logs"  # each log goes on across the restart, after a marker
    for name in ("board", "chat"):
        text = (logs / f"{name}.log").read_text()
        assert text.count("===== wealist up ") == 2
        restarted = text.index(f": {name} restart 1 after it exited (signal 9, SIGKILL) =====")
        assert text.index("Started worker-1") < restarted  # the first run's lines are kept
    assert "Respawning worker-1" in (logs / "chat.log").read_text()
