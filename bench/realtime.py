"""``python -m bench realtime``: chat fan-out and notification delivery at the size that
matters (issue 20), next to this machine's ceilings, in one run.

1. **Chat**: N chats x M members (default 100 x 10: 1,000 sockets) on the chat service of a
   ``wealist up`` stack (one worker per service), seeded through the API. At each stepped
   rate (messages/s in total, spread evenly over the chats, each sent by a member of the
   chat over its socket with a unique ``clientMessageId``) every receiving socket times
   each message from its send to its arrival; an ``ERROR`` answer is a refusal, an
   expected delivery that did not arrive within the grace period is lost, the same
   ``clientMessageId`` twice on one socket is a duplicate. Each step runs back to back with
   the same step through (a) a raw Granian ASGI app with the same rooms
   (:mod:`bench.raw_rooms`), in alternating order, for ``--rounds`` rounds; each round
   also runs (b) the raw psycopg insert loop (16 connections), the write ceiling.
2. **Notifications**: one SSE stream per seeded user on noti; a board comment by one member
   of a team notifies the other M-1 (they all follow the team's board): commit (the
   comment's 201) -> on the stream, at stepped comment rates.
3. **REST writes**: a chat message (16 writers, one chat), a task and a comment, each by
   ``wrk -c16`` next to the raw insert loop, for ``--rounds`` rounds.

A ratio is the median of per-round paired ratios (the machine is shared: its noise moves
neighbours together); absolute figures are medians over rounds, beside the machine's load
and CPU. The clients are ``--clients`` processes (uvloop, the websockets library), each
owning whole chats; a step where one of them used >= 85 % of a core is marked
client-bound: the client, not the server, may have been the limit. Everything stops by
itself: each step is bounded, the processes and the stack are stopped on error too.

``python -m bench.realtime --chats 10 --members 10 --rates 50,100 --seconds 3 --rounds 2``
runs a smaller shape (``--help`` for every option).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import psycopg
import websockets

from bench.realtime_book import Plan, RestRound, StepRun, Tally, merge, summarize
from bench.realtime_clients import (
    TICK_S,
    Clients,
    Share,
    Streams,
    clients,
    open_stream,
    wait_until,
)
from bench.realtime_report import Goal, report, step_line
from bench.results import Ratio, Results

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "realtime.md"
IN_FLIGHT = 256  # comment POSTs in flight at most; past it the client waits (and says so)


# --- measuring the machine -------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_times() -> tuple[int, int]:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields), fields[3] + fields[4]


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            todo += [
                int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()
            ]
    return found


def _tree_ticks(pid: int) -> int:
    total = 0
    for each in _tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = Path(f"/proc/{each}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


class Meter:
    """The machine's CPU busy and named process trees' CPU (in cores) over an interval."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.load = os.getloadavg()[0]
        self._wall = time.monotonic()
        self._machine = _cpu_times()
        self._ticks = {name: _tree_ticks(pid) for name, pid in pids.items()}

    def read(self) -> tuple[float, dict[str, float]]:
        wall = max(1e-6, time.monotonic() - self._wall)
        total, idle = _cpu_times()
        busy = 1 - (idle - self._machine[1]) / max(1, total - self._machine[0])
        cores = {
            name: (_tree_ticks(pid) - self._ticks[name]) / _TICKS / wall
            for name, pid in self.pids.items()
        }
        return busy, cores


# --- seeding -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Room:
    """One chat and its team: the workspace, members (the first is the owner) with their
    tokens, and a board every member follows (for the notification steps)."""

    chat_id: str
    workspace_id: str
    board_id: str
    users: tuple[str, ...]
    tokens: tuple[str, ...]


async def _seed_room(seeder: Any, number: int, members: int) -> Room:
    people = await asyncio.gather(
        *(seeder.person(f"rt{number}m{i}", False) for i in range(members))
    )
    tokens = [seeder.tokens[p.userId] for p in people]
    owner = tokens[0]
    workspace = await seeder.call(
        "POST",
        "user",
        "/api/workspaces/create",
        token=owner,
        json={"workspaceName": f"RT {number}"},
    )
    workspace_id = workspace["workspaceId"]
    await asyncio.gather(
        *(
            seeder.call(
                "POST",
                "user",
                f"/api/workspaces/{workspace_id}/members/invite",
                token=owner,
                json={"email": p.email},
            )
            for p in people[1:]
        )
    )
    others = [p.userId for p in people[1:]]
    chat = await seeder.call(
        "POST",
        "chat",
        "/api/chats",
        token=owner,
        json={
            "workspaceId": workspace_id,
            "chatType": "GROUP",
            "chatName": f"RT {number}",
            "participants": others,
        },
    )
    project = await seeder.call(
        "POST",
        "board",
        "/api/projects",
        token=owner,
        json={"workspaceId": workspace_id, "name": f"RT {number}"},
    )
    project_id = project["data"]["projectId"]

    async def join(token: str) -> None:  # a comment needs its author in the project
        asked = await seeder.call(
            "POST", "board", "/api/join-requests", token=token, json={"projectId": project_id}
        )
        await seeder.call(
            "PUT",
            "board",
            f"/api/join-requests/{asked['data']['requestId']}",
            token=owner,
            json={"status": "APPROVED"},
        )

    await asyncio.gather(*(join(t) for t in tokens[1:]))
    board = await seeder.call(
        "POST",
        "board",
        "/api/boards",
        token=owner,
        json={"projectId": project_id, "title": f"RT {number}", "participants": others},
    )
    return Room(
        chat["chatId"],
        workspace_id,
        board["data"]["boardId"],
        tuple(p.userId for p in people),
        tuple(tokens),
    )


async def seed_rooms(urls: dict[str, str], internal_key: str, plan: Plan) -> list[Room]:
    from loadtests.seed import Seeder

    async with httpx.AsyncClient(timeout=60) as client:
        seeder = Seeder(client, urls, internal_key)  # 16 calls in flight at most
        return list(
            await asyncio.gather(*(_seed_room(seeder, n, plan.members) for n in range(plan.chats)))
        )


def shares_of(rooms: list[Room], chat_ws: str, raw_ws: str, processes: int) -> list[Share]:
    """Whole rooms per process (a message's sender and receivers share one process)."""
    processes = max(1, min(processes, len(rooms)))
    shares = []
    for index in range(processes):
        mine = rooms[index::processes]
        shares.append(
            Share(
                index,
                {
                    "chat": [
                        [f"{chat_ws}/api/chats/ws/{r.chat_id}?token={t}" for t in r.tokens]
                        for r in mine
                    ],
                    "raw": [[f"{raw_ws}/ws/{r.chat_id}"] * len(r.tokens) for r in mine],
                },
            )
        )
    return shares


# --- the raw fan-out server --------------------------------------------------------------


@contextlib.contextmanager
def raw_rooms_server() -> Iterator[tuple[str, int]]:
    """``bench.raw_rooms:app`` under Granian; yields its ws:// base and its PID."""
    from bench.macro import granian

    # As the services: every socket is a request in flight.
    extra = ("--backlog", "2048", "--backpressure", "10000")
    with granian("bench.raw_rooms:app", "asgi", extra) as (port, pid):
        yield f"ws://127.0.0.1:{port}", pid


# --- the chat steps --------------------------------------------------------------------------


def _database(url: str, name: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url)._replace(path=f"/{name}").geturl()


def _stored(chat_db: str, tag: str) -> int:
    with psycopg.connect(chat_db, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM messages WHERE client_message_id LIKE %s", (tag + ".%",)
        ).fetchone()
    return int(row[0]) if row else 0


def chat_step(
    pool: Clients,
    plan: Plan,
    target: str,
    rate: float,
    round_: int,
    tag: str,
    pids: dict[str, int],
) -> StepRun:
    total_rooms = sum(pool.rooms)
    start_at = time.monotonic() + 0.3
    meter = Meter(pids)
    commands = [
        ("step", target, rate * rooms / total_rooms, plan.seconds, start_at, plan.grace_s, tag)
        for rooms in pool.rooms
    ]
    replies = pool.call(commands, plan.seconds + plan.grace_s + 60)
    busy, cores = meter.read()
    outcome = merge(r[1] for r in replies)
    closed: Counter[str] = Counter()
    unmatched: Counter[str] = Counter()
    for r in replies:
        closed.update(r[3])
        unmatched.update(r[4])
    for code, count in unmatched.items():  # an error frame naming no message (rate limits)
        outcome.refusals[f"{code} (no id)"] = count
    if closed:
        outcome.refusals["sockets closed by the server"] = sum(closed.values())
    run = summarize(
        outcome,
        target=target,
        rate=rate,
        round_=round_,
        seconds=plan.seconds,
        client_cpu=max(r[2] for r in replies),
    )
    return replace(run, server_cpu=cores, busy=busy, load=meter.load)


# --- the notification steps ----------------------------------------------------------------


class _Commenter:
    """Board comments at a rate: comment ``n`` goes to room ``n % rooms``, written by its
    members in turn, and must reach every other member's stream."""

    def __init__(self, http: httpx.AsyncClient, rooms: list[Room], members: int) -> None:
        self.http = http
        self.rooms = rooms
        self.members = members
        self.gate = asyncio.Semaphore(IN_FLIGHT)

    async def comment(self, tally: Tally, tag: str, n: int) -> None:
        try:
            index = n % len(self.rooms)
            room = self.rooms[index]
            author = (n // len(self.rooms)) % self.members
            base = index * self.members
            marker = f"{tag}.{n}"
            to = tuple(base + m for m in range(self.members) if m != author)
            tally.send(marker, to, time.monotonic())
            try:
                answer = await self.http.post(
                    "/api/comments",
                    json={"boardId": room.board_id, "content": f"bench {marker}"},
                    headers={"Authorization": f"Bearer {room.tokens[author]}"},
                )
                ok, code = answer.status_code < 300, str(answer.status_code)
            except httpx.HTTPError as exc:
                ok, code = False, type(exc).__name__
            tally.answer(marker, ok, time.monotonic(), code)
        finally:
            self.gate.release()

    async def step(
        self, tally: Tally, rate: float, seconds: float, grace_s: float, tag: str
    ) -> None:
        posts: list[asyncio.Task[None]] = []
        total = round(rate * seconds)
        started = time.monotonic()
        n = 0
        while n < total:
            due = min(total, int((time.monotonic() - started) * rate) + 1)
            while n < due:
                await self.gate.acquire()
                posts.append(asyncio.create_task(self.comment(tally, tag, n)))
                n += 1
            await asyncio.sleep(TICK_S)
        await wait_until(tally.complete, time.monotonic() + grace_s)
        for post in posts:
            post.cancel()
        await asyncio.gather(*posts, return_exceptions=True)


async def notification_steps(
    board_url: str, noti_url: str, rooms: list[Room], plan: Plan, nonce: str, pids: dict[str, int]
) -> list[StepRun]:
    """One SSE stream per member, then each comment rate in turn."""
    streams = Streams()
    gate = asyncio.Semaphore(50)

    async def opened(token: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with gate:
            return await open_stream(noti_url, token)

    pairs: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    readers: list[asyncio.Task[None]] = []
    runs = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    try:
        pairs += await asyncio.gather(*(opened(t) for r in rooms for t in r.tokens))
        readers += [asyncio.create_task(streams.follow(n, p[0])) for n, p in enumerate(pairs)]
        print(f"  {len(pairs):,} notification streams open", flush=True)
        async with httpx.AsyncClient(base_url=board_url, timeout=30, limits=limits) as http:
            commenter = _Commenter(http, rooms, plan.members)
            for step, rate in enumerate(plan.sse_rates):
                meter = Meter(pids)
                cpu0, started = time.process_time(), time.monotonic()
                streams.tally = tally = Tally()
                # A notification may take longer than a chat message: at least 10 s of grace.
                await commenter.step(
                    tally, rate, plan.seconds, max(plan.grace_s, 10.0), f"rtn{nonce}{step}"
                )
                streams.tally = None
                busy, cores = meter.read()
                outcome = tally.outcome()
                if streams.closed:
                    outcome.refusals["streams closed by the server"] = streams.closed
                run = summarize(
                    outcome,
                    target="sse",
                    rate=rate,
                    round_=0,
                    seconds=plan.seconds,
                    client_cpu=(time.process_time() - cpu0) / max(1e-6, time.monotonic() - started),
                    from_answer=True,
                )
                run = replace(run, server_cpu=cores, busy=busy, load=meter.load)
                print(f"  notifications at {rate:g} comments/s: {step_line(run)}", flush=True)
                runs.append(run)
    finally:
        for _, writer in pairs:
            writer.close()
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    return runs


# --- REST writes and the insert loop --------------------------------------------------------


def _settle(postgres_url: str, databases: Iterable[str], limit_s: float = 60.0) -> float:
    """Wait (bounded) for the outboxes to drain, so one run's relay work does not land on
    the next; returns how long it took."""
    started = time.monotonic()
    for name in databases:
        with psycopg.connect(_database(postgres_url, name), autocommit=True) as conn:
            while time.monotonic() - started < limit_s:
                row = conn.execute(
                    "SELECT count(*) FROM outbox WHERE delivered_at IS NULL"
                ).fetchone()
                if not row or not row[0]:
                    break
                time.sleep(0.2)
    return time.monotonic() - started


def rest_rounds(env: Any, plan: Plan) -> list[RestRound]:
    from bench.macro import _insert_loop, wrk

    team = env.seed["teams"][0]
    project = team["projects"][0]
    auth = {"Authorization": f"Bearer {env.token}", "Content-Type": "application/json"}
    post = "wrk.method = \"POST\"\nwrk.body = '{body}'\n"
    routes = {
        "message": (
            f"{env.stack.url('chat')}/api/chats/messages/{team['chatId']}",
            '{"content": "a message from wrk"}',
        ),
        "task": (
            f"{env.stack.url('board')}/api/boards",
            '{"projectId": "' + project["projectId"] + '", "title": "a task from wrk"}',
        ),
        "comment": (
            f"{env.stack.url('board')}/api/comments",
            '{"boardId": "' + project["boards"][0]["boardId"] + '", "content": "from wrk"}',
        ),
    }
    scratch = _database(env.postgres_url, "postgres")
    seconds = max(1, round(plan.seconds))
    rounds = []
    for n in range(plan.rounds):
        raw = asyncio.run(_insert_loop(scratch, max(2000, round(800 * plan.seconds))))
        rates, p99 = {}, {}
        for name, (url, body) in routes.items():
            done = wrk(
                url, seconds, headers=auth, script=post.replace("{body}", body), connections=16
            )
            rates[name], p99[name] = done.rate, done.p99_ms
            _settle(env.postgres_url, ("chat_db", "board_db"))
        print(
            f"  round {n + 1}: raw insert loop {raw:,.0f} rows/s; "
            + ", ".join(f"{k} {v:,.0f}/s (p99 {p99[k]:.0f} ms)" for k, v in rates.items()),
            flush=True,
        )
        rounds.append(RestRound(raw, rates, p99))
    return rounds


# --- the run ---------------------------------------------------------------------------------


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


@dataclass
class ChatFigures:
    chat: dict[float, list[StepRun]] = field(default_factory=lambda: defaultdict(list))
    raw: dict[float, list[StepRun]] = field(default_factory=lambda: defaultdict(list))
    raw_inserts: list[float] = field(default_factory=list)  # rows/s, one per round


def chat_rounds(env: Any, pool: Clients, plan: Plan, nonce: str, raw_pid: int) -> ChatFigures:
    """Each round: every rate through the chat service and the raw fan-out back to back
    (in alternating order), then the raw insert loop."""
    from bench.macro import _insert_loop

    pids = env.stack.service_pids()
    chat_pids = {k: pids[k] for k in ("chat", "postgres", "redis") if k in pids}
    chat_db = _database(env.postgres_url, "chat_db")
    scratch = _database(env.postgres_url, "postgres")
    figures = ChatFigures()
    step = 0
    for n in range(plan.rounds):
        for rate in plan.rates:
            order = ("chat", "raw") if (n + step // 2) % 2 == 0 else ("raw", "chat")
            for target in order:
                step += 1
                tag = f"rt{nonce}{step}"
                these = chat_pids if target == "chat" else {"granian": raw_pid}
                done = chat_step(pool, plan, target, rate, n, tag, these)
                if target == "chat":
                    done = replace(done, stored=_stored(chat_db, tag))
                stored = "" if done.stored is None else f", stored {done.stored:,}"
                print(
                    f"  round {n + 1} {target} {rate:g} msg/s: {step_line(done)}{stored}",
                    flush=True,
                )
                (figures.chat if target == "chat" else figures.raw)[rate].append(done)
        rows = max(2000, round(800 * plan.seconds))
        figures.raw_inserts.append(asyncio.run(_insert_loop(scratch, rows)))
        print(f"  round {n + 1} raw insert loop: {figures.raw_inserts[-1]:,.0f} rows/s", flush=True)
    return figures


def run(env: Any, results: Results, plan: Plan) -> list[Goal]:
    """Seed, then the chat rounds and the notification steps (sockets and streams open),
    then the REST rounds; the report is printed, written and added to ``results``."""
    before = _uptime()
    nonce = uuid.uuid4().hex[:6]
    print(
        f"realtime: {plan.chats} chats x {plan.members} members ({plan.sockets:,} sockets), "
        f"steps {', '.join(f'{r:g}' for r in plan.rates)} msg/s x {plan.seconds:g} s, "
        f"{plan.rounds} rounds, {plan.clients} client processes",
        flush=True,
    )
    started = time.monotonic()
    rooms = asyncio.run(seed_rooms(env.stack.urls, env.stack.internal_key, plan))
    print(f"  seeded {len(rooms)} chats in {time.monotonic() - started:.0f} s", flush=True)
    pids = env.stack.service_pids()
    sse: list[StepRun] = []
    chat_ws = env.stack.url("chat").replace("http://", "ws://", 1)
    with raw_rooms_server() as (raw_ws, raw_pid):
        shares = shares_of(rooms, chat_ws, raw_ws, plan.clients)
        with clients(shares) as pool:
            started = time.monotonic()
            pool.call([("open",)] * len(shares), 300)
            print(
                f"  {2 * plan.sockets:,} sockets open (chat and raw) in "
                f"{time.monotonic() - started:.0f} s",
                flush=True,
            )
            figures = chat_rounds(env, pool, plan, nonce, raw_pid)
            if plan.sse_rates:
                waited = _settle(env.postgres_url, ("chat_db", "board_db"))
                print(f"  outboxes drained in {waited:.1f} s", flush=True)
                sse_pids = {k: pids[k] for k in ("board", "noti", "postgres", "redis") if k in pids}
                sse = asyncio.run(
                    notification_steps(
                        env.stack.url("board"), env.stack.url("noti"), rooms, plan, nonce, sse_pids
                    )
                )
    print("REST writes next to the raw insert loop", flush=True)
    _settle(env.postgres_url, ("chat_db", "board_db"))
    rest = rest_rounds(env, plan) if plan.rounds else []
    machine = (
        f"# realtime: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M UTC}\n\n"
        f"{os.cpu_count()} cores; `uptime` before: {before}; after: {_uptime()}. One worker "
        f"per service (wealist up, throwaway data); {plan.clients} client processes (uvloop, "
        f"websockets {websockets.version.version}) on the same machine."
    )
    text, found = report(
        plan, dict(figures.chat), dict(figures.raw), figures.raw_inserts, sse, rest, machine
    )
    print("\n" + text, flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text + "\n")
    for g in found:
        met = "n/a" if g.met is None else ("met" if g.met else "NOT met")
        results.add(Ratio("realtime", g.target, g.measured, f"goal {g.goal}", g.ratio, met))
    return found


def realtime(env: Any, results: Results) -> None:
    """``python -m bench realtime``: the default shape, ``--seconds``/``--rounds`` apply."""
    run(env, results, Plan(seconds=float(env.seconds), rounds=env.rounds))


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(v) for v in text.split(",") if v.strip())


def main() -> int:
    from bench import macro

    parser = argparse.ArgumentParser(prog="python -m bench.realtime", description=__doc__)
    default = Plan()
    parser.add_argument("--chats", type=int, default=default.chats)
    parser.add_argument("--members", type=int, default=default.members)
    parser.add_argument("--rates", type=_floats, default=default.rates, help="msg/s, e.g. 100,300")
    parser.add_argument(
        "--sse-rates", type=_floats, default=default.sse_rates, help="comments/s ('' for none)"
    )
    parser.add_argument("--seconds", type=float, default=default.seconds, help="per step")
    parser.add_argument("--rounds", type=int, default=default.rounds)
    parser.add_argument("--grace", type=float, default=default.grace_s)
    parser.add_argument("--clients", type=int, default=default.clients, help="client processes")
    args = parser.parse_args()
    if args.members < 2:
        parser.error("--members must be at least 2")
    plan = Plan(
        chats=args.chats,
        members=args.members,
        rates=args.rates,
        sse_rates=args.sse_rates,
        seconds=args.seconds,
        rounds=args.rounds,
        grace_s=args.grace,
        clients=args.clients,
    )
    print("starting the stack (wealist up, throwaway data)...", flush=True)
    results = Results()
    with macro.environment(max(1, round(plan.seconds)), plan.rounds) as env:
        run(env, results, plan)
    return 0


if __name__ == "__main__":
    sys.exit(main())
