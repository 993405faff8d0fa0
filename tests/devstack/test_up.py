"""``wealist up``: the whole stack from nothing, stopped, then started again on the same data.

A real run: ``python -m wealist up`` in a subprocess with no ``WEALIST_*`` settings except
the service ports, so it starts its own PostgreSQL and Redis under the data dir (never the
system ones on 5432/6379).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
import redis

from wealist.core.settings import with_database
from wealist.devstack.servers import PostgresServer, free_port, port_open
from wealist.services import SERVICES

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
READY_LINE = "Ctrl-C to stop"


def service_ports() -> dict[str, int]:
    ports: set[int] = set()
    while len(ports) < len(SERVICES):
        ports.add(free_port())
    return dict(zip(SERVICES, sorted(ports), strict=True))


class Up:
    """A running ``wealist up`` whose output is collected line by line."""

    def __init__(self, data_dir: Path, ports: dict[str, int], *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WEALIST_")}
        env.update({f"WEALIST_{name.upper()}_PORT": str(port) for name, port in ports.items()})
        self.data_dir = data_dir
        self.ports = ports
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wealist", "up", "--data-dir", str(data_dir), *args],
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.proc.stdout:
            for line in self.proc.stdout:
                self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_ready(self, seconds: float = 180.0) -> None:
        deadline = time.monotonic() + seconds
        while READY_LINE not in self.lines:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.reader.join(5)
                pytest.fail(f"wealist up did not get ready:\n{self.output}")
            time.sleep(0.1)

    def table(self, label: str) -> str:
        """The URL printed for ``label`` in the summary table."""
        for line in self.lines:
            parts = line.split()
            if len(parts) == 2 and parts[0] == label:
                return parts[1]
        raise AssertionError(f"no {label} row in:\n{self.output}")

    def wait_exit(self, seconds: float = 60.0) -> int:
        code = self.proc.wait(seconds)
        self.reader.join(5)
        return code

    def state(self) -> dict[str, object]:
        loaded: dict[str, object] = json.loads((self.data_dir / "state.json").read_text())
        return loaded

    def all_ports(self) -> list[int]:
        state = self.state()
        return [
            *self.ports.values(),
            int(str(state["postgres_port"])),
            int(str(state["redis_port"])),
            *([int(str(state["gateway_port"]))] if "gateway_port" in state else []),
        ]

    def cleanup(self) -> None:
        """Stop it if a test failed half-way; kill what is left if it does not stop."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.wait_exit(60)
                return
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.wait_exit(5)
        kill_services(self.ports)
        PostgresServer(self.data_dir / "postgres").stop("immediate")
        if (self.data_dir / "state.json").exists():
            with contextlib.suppress(redis.RedisError):
                redis.Redis(port=int(str(self.state()["redis_port"]))).shutdown(nosave=True)


def kill_services(ports: dict[str, int]) -> None:
    """Kill any ``wealist serve ... --port <one of ports>`` left over (and its workers)."""
    wanted = {str(port).encode() for port in ports.values()}
    for proc_dir in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            argv = (proc_dir / "cmdline").read_bytes().split(b"\0")
            port = argv[argv.index(b"--port") + 1] if b"--port" in argv else b""
            if b"serve" in argv and port in wanted:
                os.killpg(int(proc_dir.name), signal.SIGKILL)


def assert_all_ready(ports: dict[str, int]) -> None:
    with httpx.Client(timeout=5.0) as client:
        for name, port in ports.items():
            answer = client.get(f"http://127.0.0.1:{port}/health/ready")
            assert answer.status_code == 200, (name, answer.text)
            body = answer.json()
            assert body["status"] == "ready", (name, body)
            assert body["service"] == f"{name}-service"


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A fresh 0700 directory outside pytest's tmp root.

    Other pytest sessions reset that root to 0700 and prune old runs while this one runs,
    which would lock the postgres user out. Leaving the mode to ``up`` tests that it lets
    the postgres user through.
    """
    parent = Path(tempfile.mkdtemp(prefix="wealist-up-test-"))
    yield parent / "data"
    shutil.rmtree(parent, ignore_errors=True)


def test_up_starts_everything_stops_cleanly_and_keeps_its_data(data_dir: Path) -> None:
    ports = service_ports()

    first = Up(data_dir, ports, "--exit-after", "600")
    try:
        first.wait_ready()
        pg_url = first.table("postgres")
        redis_url = first.table("redis")
        state = first.state()
        assert urlsplit(pg_url).port == state["postgres_port"] != 5432
        assert urlsplit(redis_url).port == state["redis_port"] != 6379
        assert f"postgres: started on 127.0.0.1:{state['postgres_port']}" in first.output
        gateway = first.table("gateway")  # nginx is installed here (.ci/run installs it)
        assert gateway == f"http://127.0.0.1:{state['gateway_port']}"
        with httpx.Client(base_url=gateway, timeout=5.0) as edge:
            assert edge.get("/health").text == "healthy\n"
            assert edge.get("/api/svc/ops/api/config/active").json()["success"] is True
            assert edge.get("/api/internal/users/x/exists").status_code == 404
        for name, port in ports.items():
            assert first.table(name) == f"http://127.0.0.1:{port}"
            assert f"{name}: starting on :{port}" in first.output
        assert (data_dir / "postgres" / "data" / "PG_VERSION").exists()
        key = data_dir / "keys" / "jwt-private.pem"
        first_key = key.read_text()
        assert first_key.startswith("-----BEGIN PRIVATE KEY-----")
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert stat.S_IMODE((data_dir / "state.json").stat().st_mode) == 0o600
        assert len(str(state["internal_api_key"])) >= 32

        assert_all_ready(ports)
        with psycopg.connect(with_database(pg_url, "user_db"), autocommit=True) as conn:
            conn.execute("CREATE TABLE up_probe (x int)")
            conn.execute("INSERT INTO up_probe VALUES (42)")
        with redis.Redis.from_url(redis_url) as client:
            client.set("up_probe", "kept")

        first.proc.send_signal(signal.SIGINT)
        assert first.wait_exit() == 0, first.output
        assert "postgres: stopped" in first.output
        assert not [port for port in first.all_ports() if port_open(port)]
    finally:
        first.cleanup()

    second = Up(data_dir, ports, "--exit-after", "20")
    try:
        second.wait_ready()
        assert second.table("postgres") == pg_url
        assert second.table("redis") == redis_url
        assert f"(data in {data_dir / 'postgres'})" in second.output
        assert key.read_text() == first_key
        assert second.state() == state

        assert_all_ready(ports)
        with psycopg.connect(with_database(pg_url, "user_db")) as conn:
            assert conn.execute("SELECT x FROM up_probe").fetchall() == [(42,)]
        with redis.Redis.from_url(redis_url) as client:
            assert client.get("up_probe") == b"kept"

        assert second.wait_exit() == 0, second.output  # --exit-after stops it by itself
        assert "--exit-after 20: stopping" in second.output
        assert not [port for port in second.all_ports() if port_open(port)]
    finally:
        second.cleanup()
