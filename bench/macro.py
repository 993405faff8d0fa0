"""Macro ratios: the real services (``wealist up``) against this machine's ceilings,
measured side by side in the same run.

- HTTP: the hot routes interleaved with their ceilings (raw Granian ASGI JSON, raw Granian
  + psycopg single SELECT, FastAPI on uvicorn doing the same work): see :mod:`bench.http`;
- PostgreSQL: a raw psycopg insert loop (16 connections, autocommit) against the chat
  message route (a transaction: message, sequence, outbox) driven by ``wrk``; the hot named
  queries against a ``SELECT 1`` round trip on the same connection;
- Redis: ``redis-benchmark`` PUBLISH against the kernel's broker publishing from Python;
- WebSocket fan-out: N sockets at R messages/s through a raw ASGI fan-out app under
  Granian, then through the chat service (one chat, same N and R): deliveries/s and the
  send -> receive latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import websockets
from loadtests.seed import SeedPlan, seed
from redis.asyncio import Redis

from bench.realtime import realtime
from bench.results import Ratio, Results
from loadtests import stack as stacks
from wealist.core.db import load_queries
from wealist.core.realtime.broker import RedisBroker

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Env:
    stack: stacks.Stack
    seed: dict[str, Any]
    postgres_url: str
    redis_url: str
    token: str  # the team owner's access token
    seconds: int  # per wrk run
    rounds: int  # interleaved rounds of the HTTP ratios


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stack_url(output: list[str], name: str) -> str:
    for line in output:
        found = re.match(rf"\s*{name}\s+(\S+://\S+)", line)
        if found:
            return found.group(1)
    raise RuntimeError(f"wealist up did not print the {name} URL")


@contextlib.contextmanager
def environment(seconds: int, rounds: int = 5) -> Iterator[Env]:
    data = Path(tempfile.mkdtemp(prefix="wealist-bench-"))
    # Tokens outlive the run: one expiring mid-run would turn every request into a 401.
    os.environ["WEALIST_AUTH_ACCESS_TOKEN_TTL_S"] = str(4 * 3600)
    try:
        with stacks.running_stack(data, echo=False) as running:
            out = data / "seed.json"
            seeded = seed(running.urls, running.internal_key, SeedPlan(teams=1, team_size=10), out)
            owner = seeded["teams"][0]["members"][0]
            pair = httpx.post(
                f"{running.url('auth')}/api/test/token",
                json={"userId": owner["userId"], "email": owner["email"]},
            ).json()
            yield Env(
                running,
                seeded,
                _stack_url(running.output, "postgres"),
                _stack_url(running.output, "redis"),
                pair["accessToken"],
                seconds,
                rounds,
            )
    finally:
        shutil.rmtree(data, ignore_errors=True)


# --- HTTP ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkResult:
    rate: float
    p99_ms: float


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(
    url: str,
    seconds: int,
    *,
    headers: dict[str, str] | None = None,
    script: str | None = None,
    connections: int = 32,
) -> WrkResult:
    if shutil.which("wrk") is None:
        raise SystemExit("bench: the HTTP ratios need wrk (apt-get install wrk)")
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        if script:
            lua.write(script)
            command += ["-s", lua.name]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    Path(lua.name).unlink()
    text = done.stdout
    if "Non-2xx or 3xx responses" in text:
        raise RuntimeError(f"wrk {url}: error responses\n{text}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", text, re.MULTILINE).group(1))  # type: ignore[union-attr]
    return WrkResult(rate, p99)


@contextlib.contextmanager
def granian(target: str, interface: str, extra: tuple[str, ...] = ()) -> Iterator[tuple[int, int]]:
    """``target`` under Granian, one worker (as the services run), until the block ends:
    its port and the PID whose process tree is its CPU."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            interface,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--loop",
            "uvloop",
            *extra,
            "--log-level",
            "warning",
            target,
        ],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"granian {target} did not start")
            time.sleep(0.1)
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def http(env: Env, results: Results) -> None:
    from bench import http as interleaved

    interleaved.run(env, results, rounds=env.rounds)


# --- PostgreSQL ---------------------------------------------------------------------------


async def _insert_loop(url: str, rows: int, tasks: int = 16) -> float:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
        await admin.execute("DROP TABLE IF EXISTS bench_rows")
        await admin.execute(
            "CREATE TABLE bench_rows (id uuid PRIMARY KEY, chat uuid, body text, "
            "created_at timestamptz DEFAULT now())"
        )
    per_task = rows // tasks

    async def one() -> None:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            for _ in range(per_task):
                await conn.execute(
                    "INSERT INTO bench_rows (id, chat, body) VALUES (%s, %s, %s)",
                    (uuid.uuid4(), uuid.uuid4(), "a message of about forty characters...."),
                )

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(tasks)))
    return per_task * tasks / (time.perf_counter() - started)


def _database(url: str, name: str) -> str:
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def postgres(env: Env, results: Results) -> None:
    print("PostgreSQL: raw insert loop vs the chat message route", flush=True)
    scratch = _database(env.postgres_url, "postgres")
    raw = asyncio.run(_insert_loop(scratch, max(2000, 800 * env.seconds)))
    chat = env.seed["teams"][0]["chatId"]
    post = wrk(
        f"{env.stack.url('chat')}/api/chats/messages/{chat}",
        env.seconds,
        connections=16,
        headers={"Authorization": f"Bearer {env.token}", "Content-Type": "application/json"},
        script='wrk.method = "POST"\nwrk.body = \'{"content": "a message from wrk"}\'\n',
    )
    results.add(
        Ratio(
            "macro",
            "PostgreSQL: message writes (POST /api/chats/messages)",
            f"{post.rate:.0f} msg/s, p99 {post.p99_ms:.0f} ms",
            f"raw insert loop {raw:.0f} rows/s",
            post.rate / raw,
            "of the driver's insert rate (HTTP, auth, a transaction with seq + outbox)",
        )
    )
    queries(env, results)


def _time_query(
    conn: psycopg.Connection[Any], sql: Any, params: dict[str, Any], rounds: int
) -> float:
    conn.execute(sql, params, prepare=True).fetchall()
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(rounds):
            conn.execute(sql, params, prepare=True).fetchall()
        samples.append((time.perf_counter() - started) / rounds * 1e6)
    return statistics.median(samples)


def queries(env: Env, results: Results) -> None:
    print("hot named queries vs a SELECT 1 round trip", flush=True)
    team = env.seed["teams"][0]
    owner = team["members"][0]["userId"]
    project = team["projects"][0]["projectId"]
    far = "9999-12-31T00:00:00Z"
    top = "ffffffff-ffff-ffff-ffff-ffffffffffff"
    cases = [
        ("board", "wealist.board.queries", "list_boards", {"project": project, "filter": "{}"}),
        ("board", "wealist.board.queries", "project_by_id", {"id": project, "user": owner}),
        (
            "chat",
            "wealist.chat.queries",
            "my_chats",
            {"me": owner, "workspace": None, "before_at": far, "before_id": top, "limit": 20},
        ),
        (
            "chat",
            "wealist.chat.queries",
            "messages_before",
            {"chat": team["chatId"], "before": 2**62, "limit": 30},
        ),
        (
            "noti",
            "wealist.noti.queries",
            "list_page",
            {
                "user": team["members"][1]["userId"],
                "workspace": team["workspaceId"],
                "unread_only": False,
                "limit": 20,
                "offset": 0,
            },
        ),
    ]
    rounds = 300
    for service, package, name, params in cases:
        url = _database(env.postgres_url, f"{service}_db")
        with psycopg.connect(url, autocommit=True) as conn:
            floor = _time_query(conn, "SELECT 1", {}, rounds)
            took = _time_query(conn, load_queries(package)[name].sql, params, rounds)
            rows = len(conn.execute(load_queries(package)[name].sql, params).fetchall())
        results.add(
            Ratio(
                "micro",
                f"query {service}.{name} ({rows} rows)",
                f"{took:.0f} us",
                f"SELECT 1 {floor:.0f} us",
                took / floor,
                "round trips' worth (1.0 = as cheap as the network round trip)",
            )
        )


# --- Redis --------------------------------------------------------------------------------


async def _broker_rate(url: str, messages: int, tasks: int = 50) -> float:
    redis = Redis.from_url(url)
    broker = RedisBroker(redis)
    payload = json.dumps({"type": "MESSAGE_RECEIVED", "seq": 1, "text": "x" * 200}).encode()

    async def one() -> None:
        for _ in range(messages // tasks):
            await broker.publish("bench:topic", payload)

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(tasks)))
    rate = messages // tasks * tasks / (time.perf_counter() - started)
    await redis.aclose()
    return rate


def redis(env: Env, results: Results) -> None:
    print("Redis: redis-benchmark PUBLISH vs the broker's publish", flush=True)
    host, port = re.match(r"redis://([^:/]+):(\d+)", env.redis_url).groups()  # type: ignore[union-attr]
    count = max(20_000, 10_000 * env.seconds)
    done = subprocess.run(
        [
            "redis-benchmark",
            "-h",
            host,
            "-p",
            port,
            "-n",
            str(count),
            "-c",
            "50",
            "-q",
            "-d",
            "200",
            "PUBLISH",
            "bench:topic",
            "x" * 200,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.findall(r"([\d.]+) requests per second", done.stdout)
    ceiling = float(found[-1])
    ours = asyncio.run(_broker_rate(env.redis_url, count // 2))
    results.add(
        Ratio(
            "macro",
            "Redis PUBLISH",
            f"broker {ours:.0f}/s",
            f"redis-benchmark {ceiling:.0f}/s",
            ours / ceiling,
            "of Redis's own PUBLISH rate (50 concurrent publishers)",
        )
    )


# --- WebSocket fan-out ----------------------------------------------------------------------


@dataclass(frozen=True)
class Fanout:
    sockets: int
    rate: float  # messages sent per second
    deliveries_per_s: float
    p50_ms: float
    p99_ms: float
    lost: int


def _pct(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


async def _fanout(
    urls: list[str], sender_url: str, make_frame: Any, marker_of: Any, rate: float, seconds: float
) -> Fanout:
    """Open every socket, send ``rate`` frames/s for ``seconds`` from one more socket, and
    time each frame from its send to its arrival on every receiving socket."""
    sent: dict[str, float] = {}
    latencies: list[float] = []
    receivers = [await websockets.connect(url, max_size=None) for url in urls]
    sender = await websockets.connect(sender_url, max_size=None)

    async def listen(ws: Any) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for frame in ws:
                marker = marker_of(frame)
                if marker is not None and marker in sent:
                    latencies.append((time.perf_counter() - sent[marker]) * 1000)

    async def drain_sender() -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for _ in sender:
                pass

    tasks = [asyncio.create_task(listen(ws)) for ws in receivers]
    tasks.append(asyncio.create_task(drain_sender()))
    await asyncio.sleep(0.5)
    count = int(rate * seconds)
    started = time.perf_counter()
    for n in range(count):
        marker = f"m{n}-{uuid.uuid4().hex[:8]}"
        sent[marker] = time.perf_counter()
        await sender.send(make_frame(marker))
        await asyncio.sleep(max(0.0, started + (n + 1) / rate - time.perf_counter()))
    await asyncio.sleep(2.0)  # the last frames' deliveries
    elapsed = time.perf_counter() - started
    for ws in [*receivers, sender]:
        await ws.close()
    for task in tasks:
        task.cancel()
    expected = count * len(receivers)
    return Fanout(
        len(receivers),
        rate,
        len(latencies) / elapsed,
        _pct(latencies, 0.5),
        _pct(latencies, 0.99),
        expected - len(latencies),
    )


def _raw_marker(frame: Any) -> str | None:
    return frame if isinstance(frame, str) else None


def _chat_marker(frame: Any) -> str | None:
    if isinstance(frame, str) and ',"type":"MESSAGE_RECEIVED",' in frame[:64]:
        value = json.loads(frame)["message"].get("clientMessageId")
        return str(value) if value else None
    return None


def ws_fanout(env: Env, results: Results, sockets: int = 100, rate: float = 20.0) -> None:
    seconds = float(max(5, env.seconds))
    print(f"WebSocket fan-out: {sockets} sockets, {rate:.0f} messages/s", flush=True)
    with granian("bench.raw_apps:fanout", "asgi") as (port, _):
        url = f"ws://127.0.0.1:{port}/ws"
        raw = asyncio.run(_fanout([url] * sockets, url, lambda m: m, _raw_marker, rate, seconds))
    print(
        f"  raw ASGI fan-out under Granian: {raw.deliveries_per_s:.0f} deliveries/s, "
        f"p50 {raw.p50_ms:.1f} ms, p99 {raw.p99_ms:.1f} ms, lost {raw.lost}",
        flush=True,
    )

    team = env.seed["teams"][0]
    chat = team["chatId"]
    base = env.stack.url("chat").replace("http://", "ws://", 1) + f"/api/chats/ws/{chat}?token="
    tokens = []
    for member in team["members"]:
        pair = httpx.post(
            f"{env.stack.url('auth')}/api/test/token",
            json={"userId": member["userId"], "email": member["email"]},
        ).json()
        tokens.append(pair["accessToken"])
    urls = [base + tokens[i % len(tokens)] for i in range(sockets)]  # 10 sockets per person

    def message(marker: str) -> str:
        return json.dumps({"type": "MESSAGE", "content": "fan-out", "clientMessageId": marker})

    ours = asyncio.run(_fanout(urls, base + tokens[0], message, _chat_marker, rate, seconds))
    print(
        f"  chat service: {ours.deliveries_per_s:.0f} deliveries/s, p50 {ours.p50_ms:.1f} ms, "
        f"p99 {ours.p99_ms:.1f} ms, lost {ours.lost}",
        flush=True,
    )
    for label, mine, floor in (
        ("p50", ours.p50_ms, raw.p50_ms),
        ("p99", ours.p99_ms, raw.p99_ms),
    ):
        results.add(
            Ratio(
                "macro",
                f"WS fan-out {label}, {sockets} sockets x {rate:.0f} msg/s",
                f"chat {mine:.1f} ms ({ours.deliveries_per_s:.0f} deliveries/s, lost {ours.lost})",
                f"raw Granian ASGI {floor:.1f} ms (lost {raw.lost})",
                mine / floor if floor else float("inf"),
                "times the raw fan-out's latency (stored, sequenced, via Redis, then sent)",
            )
        )


ALL = {"http": http, "postgres": postgres, "redis": redis, "ws": ws_fanout, "realtime": realtime}
