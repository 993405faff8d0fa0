"""``wealist up`` keeps the stack running when one of its processes is killed (issue 18).

A real ``wealist up``; two chat senders and an observer in one chat, and a board writer,
work all along while processes are killed with SIGKILL: the chat service's Granian worker
(Granian starts another, the service process stays), the board service's whole process
group and the chat service's main process alone (``up`` restarts them; chat's orphaned
worker, which would hold the port, is cleared first); in the second test the embedded
Redis and PostgreSQL (``up`` restarts them on their ports and data).

Meanwhile a prober asks the services that are not killed (``/health/live``) and the
gateway (its own ``/health`` and two services through it) over and over: not one probe
may fail. At the end every acked chat message is stored once with gapless seqs, every
client (resuming with ``?after=<seq>``) was handed each of them exactly once, and every
acked board write is stored exactly once. Deadlines are generous and only ever fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
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


def cmdline(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return [b""]


async def all_ready(url: dict[str, str]) -> bool:
    async with httpx.AsyncClient(timeout=10.0) as client:
        for base in url.values():
            try:
                if (await client.get(f"{base}/health/ready")).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
    return True


def service_pid(up: Up, name: str) -> int:
    """The ``wealist serve <name>`` process ``up`` runs now (its child)."""
    for pid in children(up.proc.pid):
        argv = cmdline(pid)
        if b"serve" in argv and name.encode() in argv:
            return pid
    raise AssertionError(f"no {name} service process under up:\n{up.output}")


@dataclass
class Waiter:
    """Waits for something to happen while ``up`` and the clients' tasks run on."""

    up: Up
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def until(self, what: str, check: Callable[[], bool | Awaitable[bool]]) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while True:
            done = check()
            if not isinstance(done, bool):
                done = await done
            if done:
                return
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


@dataclass
class Scene:
    """Users, a workspace with a chat and a project, and the clients working in them."""

    up: Up
    url: dict[str, str]
    pg_url: str
    chat_id: str
    project_id: str
    senders: list[ChatSender]
    observer: FollowingSocket
    writer: BoardWriter
    wait: Waiter
    prober: Prober
    stop_sending: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def sockets(self) -> list[FollowingSocket]:
        return [*(s.socket for s in self.senders), self.observer]

    def acks_beyond(self, more: int) -> Callable[[], bool]:
        """A check: every sender got ``more`` acks beyond what it has now."""
        pairs = [(s, len(s.acks)) for s in self.senders]
        return lambda: all(len(s.acks) >= n + more for s, n in pairs)

    async def work_goes_on(self, what: str) -> None:
        """Chat and board writes are acked again, and another round of probes answered."""
        written, chatted, rounds = len(self.writer.acked), self.acks_beyond(3), self.prober.rounds()
        await self.wait.until(f"board acks {what}", lambda: len(self.writer.acked) >= written + 3)
        await self.wait.until(f"chat acks {what}", chatted)
        await self.wait.until(f"probes {what}", lambda: self.prober.rounds() >= rounds + 1)

    async def finish(self) -> tuple[list[tuple[int, str, str]], dict[str, int]]:
        """Stop the clients once each saw the last message; what is stored: the chat's
        messages (seq, clientMessageId, id) and the count of cards per title."""
        self.stop_sending.set()
        self.writer.stopping = True
        await asyncio.wait_for(asyncio.gather(*self.wait.tasks), DEADLINE_S)
        self.wait.tasks.clear()  # they ended as asked
        self.prober.stopping.set()
        self.prober.thread.join(30)
        with psycopg.connect(with_database(self.pg_url, "chat_db")) as conn:
            rows = conn.execute(
                "SELECT seq, client_message_id, id::text FROM messages"
                " WHERE chat_id = %s ORDER BY seq",
                (self.chat_id,),
            ).fetchall()
        last = rows[-1][0] if rows else 0
        await self.wait.until(
            "every client caught up", lambda: all(s.transcript.last == last for s in self.sockets)
        )
        with psycopg.connect(with_database(self.pg_url, "board_db")) as conn:
            cards = conn.execute(
                "SELECT title, count(*) FROM boards WHERE project_id = %s GROUP BY title",
                (self.project_id,),
            ).fetchall()
        return rows, dict(cards)

    def audit(self, rows: list[tuple[int, str, str]], cards: dict[str, int]) -> None:
        assert self.prober.failures == [], self.prober.failures
        # Chat: every acked message stored once, seqs 1..N, nothing stored that was not
        # acked (each send was retried with its clientMessageId until its ack came).
        assert [row[0] for row in rows] == list(range(1, len(rows) + 1))
        acked = {cid: tuple(ack) for s in self.senders for cid, ack in s.acks.items()}
        assert {cid: (mid, seq) for seq, cid, mid in rows} == acked
        assert len(rows) == len(acked) >= 20
        for socket in self.sockets:  # each was handed every message exactly once, in order
            assert socket.transcript.duplicates == []
            assert socket.transcript.gaps == []
            assert socket.transcript.resets == []
            assert socket.transcript.seqs == list(range(1, len(rows) + 1))
        # Board: every acked card stored exactly once; anything else stored was a write
        # whose answer a kill cut.
        assert [n for n in cards.values() if n != 1] == []
        assert set(self.writer.acked) <= set(cards)
        assert set(cards) <= set(self.writer.acked) | set(self.writer.unknown)


async def open_scene(up: Up, ports: dict[str, int], steady: list[str]) -> Scene:
    """Sign up, set up, start the clients, and the prober on ``steady`` services."""
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
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
        up.data_dir / "logs" / "chat.log",
    )

    def url_of(actor: Actor) -> Callable[[ServiceProcess, int], str]:
        token = actor.headers["Authorization"].removeprefix("Bearer ")

        def at(proc: ServiceProcess, after: int) -> str:
            return f"{proc.ws_url}/api/chats/ws/{chat_id}?token={token}&after={after}"

        return at

    gateway = up.table("gateway")
    prober = Prober([f"{url[name]}/health/live" for name in steady])
    prober.urls += [f"{gateway}{path}" for path in THROUGH_GATEWAY]
    scene = Scene(
        up,
        url,
        up.table("postgres"),
        chat_id,
        project_id,
        [ChatSender(FollowingSocket(url_of(a), [endpoint]).start()) for a in (first, second)],
        FollowingSocket(url_of(owner), [endpoint]).start(),
        BoardWriter(httpx.AsyncClient(base_url=url["board"], timeout=30), owner, project_id),
        Waiter(up),
        prober,
    )
    for socket in scene.sockets:
        await asyncio.wait_for(socket.connected.wait(), DEADLINE_S)
    scene.wait.tasks += [
        asyncio.create_task(send_until(s, f"s{i}", scene.stop_sending))
        for i, s in enumerate(scene.senders)
    ]
    scene.wait.tasks.append(asyncio.create_task(scene.writer.run()))
    await scene.wait.until("the first chat acks", scene.acks_beyond(5))
    await scene.wait.until("the first board acks", lambda: len(scene.writer.acked) >= 3)
    prober.thread.start()
    await scene.wait.until("a first round of probes", lambda: prober.rounds() >= 1)
    return scene


@contextlib.asynccontextmanager
async def running_up(data_dir: Path) -> AsyncIterator[tuple[Up, dict[str, int], list[Scene]]]:
    """A ``wealist up`` stopped with Ctrl-C at the end (and its scene's clients first);
    afterwards it must have stopped cleanly, and nothing but what the test killed may
    have exited."""
    ports = service_ports()
    up = Up(data_dir, ports, "--exit-after", "900")
    scenes: list[Scene] = []
    try:
        up.wait_ready()
        yield up, ports, scenes
        assert up.proc.poll() is None, up.output  # nothing stopped the stack
    finally:
        for scene in scenes:
            for task in scene.wait.tasks:
                task.cancel()
            for socket in scene.sockets:
                await socket.stop()
            scene.prober.stopping.set()
            await scene.writer.client.aclose()
        if up.proc.poll() is None:
            up.proc.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                up.wait_exit(120)
        code = up.proc.poll()
        up.cleanup()
    assert code == 0, up.output
    assert "stopping..." in up.output
    assert "postgres: stopped" in up.output


async def test_killed_worker_and_services_come_back_alone_and_nothing_acked_is_lost(
    data_dir: Path,
) -> None:
    async with running_up(data_dir) as (up, ports, scenes):
        steady = [name for name in ports if name not in ("board", "chat")]
        scene = await open_scene(up, ports, steady)
        scenes.append(scene)
        wait = scene.wait

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
        await scene.work_goes_on("after the chat worker's kill")

        # 2. The board service: its main process and its worker at once.
        board_main = service_pid(up, "board")
        os.killpg(board_main, signal.SIGKILL)
        restarting = "board: exited (signal 9, SIGKILL); restarting in 0.5 s (restart 1)"
        await wait.until(restarting, lambda: restarting in up.lines)
        back = "board: ready again (restart 1)"
        await wait.until(back, lambda: back in up.lines)
        assert service_pid(up, "board") != board_main
        await scene.work_goes_on("after the board restart")

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
        await scene.work_goes_on("after the chat restart")

        scene.audit(*await scene.finish())
        assert all(s.reconnects for s in scene.sockets)  # the kills really cut every socket

    assert [line for line in up.lines if "Granian is starting another" in line] == [replaced]
    assert [line for line in up.lines if ": exited" in line] == [
        "board: exited (signal 9, SIGKILL); restarting in 0.5 s (restart 1)",
        "chat: exited (signal 9, SIGKILL); restarting in 0.5 s (restart 1)",
    ]
    logs = data_dir / "logs"  # each log goes on across the restart, after a marker
    for name in ("board", "chat"):
        text = (logs / f"{name}.log").read_text()
        assert text.count("===== wealist up ") == 2
        restarted = text.index(f": {name} restart 1 after it exited (signal 9, SIGKILL) =====")
        assert text.index("Started worker-1") < restarted  # the first run's lines are kept
    assert "Respawning worker-1" in (logs / "chat.log").read_text()


async def test_killed_redis_and_postgres_are_restarted_on_their_data(data_dir: Path) -> None:
    async with running_up(data_dir) as (up, ports, scenes):
        scene = await open_scene(up, ports, list(ports))  # every service stays live
        scenes.append(scene)
        wait = scene.wait

        # Redis: restarted on its port, it reloads its snapshot.
        (redis_pid,) = [pid for pid in children(up.proc.pid) if b"redis" in cmdline(pid)[0]]
        os.kill(redis_pid, signal.SIGKILL)
        restarting = "redis: exited (signal 9, SIGKILL); restarting in 0.5 s (restart 1)"
        await wait.until(restarting, lambda: restarting in up.lines)
        await wait.until("redis back", lambda: "redis: ready again (restart 1)" in up.lines)
        await wait.until("all services ready", lambda: all_ready(scene.url))
        await scene.work_goes_on("after the Redis restart")

        # PostgreSQL: restarted on its data, it recovers every commit from its WAL.
        postmaster = int((data_dir / "postgres" / "data" / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGKILL)
        gone = f"postgres: exited (postmaster pid {postmaster} is gone); restarting in 0.5 s"
        await wait.until(gone, lambda: any(line.startswith(gone) for line in up.lines))
        await wait.until(
            "postgres back", lambda: any("postgres: ready again" in line for line in up.lines)
        )
        await wait.until("all services ready", lambda: all_ready(scene.url))
        await scene.work_goes_on("after the PostgreSQL restart")

        scene.audit(*await scene.finish())

    exits = [line.split(":")[0] for line in up.lines if ": exited" in line]
    assert exits == ["redis", "postgres"]  # no service exited meanwhile
