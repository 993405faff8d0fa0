"""``python -m bench http``: wealist's hot routes interleaved with their ceilings.

Every target runs next to each of its ceilings, A, B, C, A, B, C..., for ``--rounds``
rounds in one run; a ratio is the median of the per-round ratios (the machine is shared:
its noise moves neighbours together, so paired ratios travel where absolute rates do
not). Each server has one worker, wrk one thread and 32 connections on the same machine.

Ceilings: (a) a raw Granian ASGI app answering JSON (``bench.raw_apps:json_app``); (b) a
raw Granian app doing one indexed SELECT through a psycopg pool per request
(``bench.raw_apps:single_query``, TechEmpower's single-query shape); (c) FastAPI +
pydantic v2 on uvicorn (uvloop, httptools) doing the same work as each route
(``bench.fastapi_app``). The run stops with an error if any answer is not a 2xx, or if a
token check failed mid-run (an expired token would turn every request into a cheap 401).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.results import Ratio, Results

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 32
TOKEN_TTL_S = 4 * 3600  # outlives any run: a token expiring mid-run would fail it
WORLD_ROWS = 10_000


@dataclass(frozen=True)
class Run:
    rate: float
    p50_ms: float
    p99_ms: float
    busy: float  # the machine's CPU busy fraction during the run (all cores)


@dataclass(frozen=True)
class Endpoint:
    """One server's route: what wrk sends."""

    label: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None  # a POST body (JSON)
    must_contain: str | None = None  # every answer's body must contain this


@dataclass
class Target:
    name: str
    ours: Endpoint
    ceilings: dict[str, Endpoint]  # "a" / "b" / "c" -> the ceiling's endpoint
    goals: dict[str, float]  # ceiling -> the least ratio that meets the target
    runs: dict[str, list[Run]] = field(default_factory=dict)


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _cpu_times() -> tuple[int, int]:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields), idle


# wrk's Lua: the request (method, body) and, when asked, a count of answers whose body
# lacks the marker, printed at the end ("bad N") so a silent failure cannot pass.
_SCRIPT = """
wrk.method = "{method}"
{body}
local marker = {marker}
local bad = 0
if marker then
  response = function(status, headers, body)
    if not string.find(body, marker, 1, true) then bad = bad + 1 end
  end
end
done = function(summary, latency, requests)
  io.write(string.format("bad %d\\n", bad))
end
"""


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def wrk(endpoint: Endpoint, seconds: int) -> Run:
    if shutil.which("wrk") is None:
        raise SystemExit("bench http needs wrk: apt-get install wrk")
    script = _SCRIPT.format(
        method="POST" if endpoint.body is not None else "GET",
        body=f"wrk.body = {_lua_string(endpoint.body)}" if endpoint.body is not None else "",
        marker=_lua_string(endpoint.must_contain) if endpoint.must_contain else "nil",
    )
    headers = dict(endpoint.headers)
    if endpoint.body is not None:
        headers["Content-Type"] = "application/json"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", lua.name]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    total0, idle0 = _cpu_times()
    try:
        done = subprocess.run([*command, endpoint.url], capture_output=True, text=True, check=True)
    finally:
        Path(lua.name).unlink()
    total1, idle1 = _cpu_times()
    text = done.stdout
    if "Non-2xx or 3xx responses" in text or "Socket errors" in text:
        raise RuntimeError(f"{endpoint.label}: error answers during the run\n{text}")
    bad = int(re.search(r"^bad (\d+)$", text, re.MULTILINE).group(1))  # type: ignore[union-attr]
    if bad:
        raise RuntimeError(f"{endpoint.label}: {bad} answers lacked {endpoint.must_contain!r}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", text, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", text, re.MULTILINE).group(1))  # type: ignore[union-attr]
    busy = 1 - (idle1 - idle0) / max(1, total1 - total0)
    return Run(rate, p50, p99, busy)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(command: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[str]:
    """A one-worker server on ``port``, stopped at the end; yields its base URL."""
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""  # type: ignore[union-attr]
                raise RuntimeError(f"{command[2:5]} did not start:\n{err[-2000:]}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def granian(target: str, env: dict[str, str] | None = None) -> Any:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--loop",
        "uvloop",
        "--log-level",
        "warning",
        "--no-ws",
        target,
    ]
    return server(command, port, env)


def uvicorn(target: str, env: dict[str, str]) -> Any:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return server(command, port, env)


def _database(url: str, name: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url)._replace(path=f"/{name}").geturl()


def _world(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_world")
        conn.execute("CREATE TABLE bench_world (id int PRIMARY KEY, randomnumber int NOT NULL)")
        conn.execute(
            "INSERT INTO bench_world SELECT g, (random() * 10000)::int + 1 "
            "FROM generate_series(1, %s) g",
            (WORLD_ROWS,),
        )
        conn.execute("ANALYZE bench_world")


def _check(endpoint: Endpoint) -> None:
    """One request before the runs: a wrong setup fails here, not after minutes."""
    method = "POST" if endpoint.body is not None else "GET"
    headers = dict(endpoint.headers)
    if endpoint.body is not None:
        headers["content-type"] = "application/json"
    r = httpx.request(method, endpoint.url, headers=headers, content=endpoint.body, timeout=10)
    if r.status_code >= 300 or (endpoint.must_contain and endpoint.must_contain not in r.text):
        raise RuntimeError(f"{endpoint.label}: {r.status_code} {r.text[:300]}")


def _targets(env: Any, raw_json: str, raw_db: str, fast: str) -> list[Target]:
    team = env.seed["teams"][0]
    project = team["projects"][0]["projectId"]
    auth = {"Authorization": f"Bearer {env.token}"}
    validate = '{"token": "' + env.token + '"}'
    a = Endpoint("(a) raw Granian ASGI JSON", f"{raw_json}/")
    b = Endpoint("(b) raw Granian + psycopg single SELECT", f"{raw_db}/")
    return [
        Target(
            "GET /health/live",
            Endpoint("wealist user", f"{env.stack.url('user')}/health/live"),
            {"a": a, "c": Endpoint("(c) FastAPI", f"{fast}/health/live")},
            {"a": 0.6, "c": 2.0},
        ),
        Target(
            "POST /api/auth/validate (token + revocation, no DB)",
            Endpoint(
                "wealist auth",
                f"{env.stack.url('auth')}/api/auth/validate",
                body=validate,
                must_contain='"valid":true',
            ),
            {
                "a": a,
                "c": Endpoint(
                    "(c) FastAPI",
                    f"{fast}/api/auth/validate",
                    body=validate,
                    must_contain='"valid":true',
                ),
            },
            {"a": 0.5, "c": 2.0},
        ),
        Target(
            "GET /api/workspaces/all",
            Endpoint("wealist user", f"{env.stack.url('user')}/api/workspaces/all", auth),
            {"b": b, "c": Endpoint("(c) FastAPI", f"{fast}/api/workspaces/all", auth)},
            {"b": 0.6, "c": 2.0},
        ),
        Target(
            "GET /api/boards/project/{id} (16 tasks)",
            Endpoint(
                "wealist board",
                f"{env.stack.url('board')}/api/boards/project/{project}",
                auth,
                must_contain='"boardId"',
            ),
            {
                "b": b,
                "c": Endpoint(
                    "(c) FastAPI", f"{fast}/api/boards/project/{project}", auth, None, '"boardId"'
                ),
            },
            {"b": 0.6, "c": 2.0},
        ),
    ]


@dataclass(frozen=True)
class Row:
    target: str
    ceiling: str
    ours: str
    theirs: str
    ratio: float
    goal: float

    @property
    def met(self) -> bool:
        return self.ratio >= self.goal


def _describe(runs: list[Run]) -> str:
    rate = statistics.median(r.rate for r in runs)
    p50 = statistics.median(r.p50_ms for r in runs)
    p99 = statistics.median(r.p99_ms for r in runs)
    return f"{rate:,.0f} req/s (p50 {p50:.1f} / p99 {p99:.1f} ms)"


def summarize(target: Target) -> list[Row]:
    rows = []
    ours = target.runs["ours"]
    for key, endpoint in target.ceilings.items():
        theirs = target.runs[key]
        ratios = [o.rate / t.rate for o, t in zip(ours, theirs, strict=True)]
        rows.append(
            Row(
                target.name,
                endpoint.label,
                _describe(ours),
                _describe(theirs),
                paired_median(ratios),
                target.goals[key],
            )
        )
    return rows


def paired_median(ratios: list[float]) -> float:
    """The median of per-round ratios (each round: target and ceiling back to back)."""
    if not ratios:
        raise ValueError("no rounds")
    return statistics.median(ratios)


def table(rows: list[Row], load: str) -> str:
    lines = [
        load,
        "",
        "| target | ceiling | wealist | ceiling's | ratio | goal | met |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        goal = f">= {r.goal:g}x" if r.goal >= 1 else f">= {r.goal:g}"
        mark = "yes" if r.met else "**no**"
        cells = [r.target, r.ceiling, r.ours, r.theirs, f"{r.ratio:.2f}", goal, mark]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(env: Any, results: Results, rounds: int = 5, seconds: int | None = None) -> list[Row]:
    seconds = seconds or env.seconds
    well_known = httpx.get(f"{env.stack.url('auth')}/.well-known/openid-configuration").json()
    scratch = _database(env.postgres_url, "postgres")
    _world(scratch)
    fast_env = {
        "BENCH_JWKS_URL": well_known["jwks_uri"],
        "BENCH_ISSUER": well_known["issuer"],
        "BENCH_REDIS_URL": env.redis_url,
        "BENCH_USER_DB": _database(env.postgres_url, "user_db"),
        "BENCH_BOARD_DB": _database(env.postgres_url, "board_db"),
    }
    print(
        f"HTTP: {rounds} rounds x {seconds} s per server, wrk -t1 -c{CONNECTIONS}, one worker each",
        flush=True,
    )
    with (
        granian("bench.raw_apps:json_app") as raw_json,
        granian("bench.raw_apps:single_query", {"BENCH_DB_URL": scratch}) as raw_db,
        uvicorn("bench.fastapi_app:app", fast_env) as fast,
    ):
        targets = _targets(env, raw_json, raw_db, fast)
        for target in targets:
            for endpoint in (target.ours, *target.ceilings.values()):
                _check(endpoint)
                wrk(endpoint, 1)  # warm: prepared statements, caches, the JIT of nothing
        loads = [os.getloadavg()[0]]
        for n in range(rounds):
            for target in targets:
                line = [f"  round {n + 1} {target.name}:"]
                for key, endpoint in (("ours", target.ours), *target.ceilings.items()):
                    result = wrk(endpoint, seconds)
                    target.runs.setdefault(key, []).append(result)
                    line.append(f"{key} {result.rate:,.0f}/s (busy {result.busy:.0%})")
                print(" ".join(line), flush=True)
            loads.append(os.getloadavg()[0])
    rows = [row for target in targets for row in summarize(target)]
    busy = [r.busy for t in targets for runs in t.runs.values() for r in runs]
    load = (
        f"{os.cpu_count()} cores; 1-min load average {min(loads):.2f}-{max(loads):.2f} during "
        f"the run; CPU busy (all cores) {min(busy):.0%}-{max(busy):.0%} per wrk run."
    )
    for row in rows:
        results.add(
            Ratio(
                "http",
                f"{row.target} vs {row.ceiling}",
                row.ours,
                row.theirs,
                row.ratio,
                f"goal {row.goal:g}, {'met' if row.met else 'NOT met'}",
            )
        )
    text = table(rows, load)
    print("\n" + text, flush=True)
    out = ROOT / "bench" / "results" / "http.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    return rows
