"""A real ``wealist up`` in a subprocess, for the tests of this directory.

It runs with no ``WEALIST_*`` settings but the service ports (and what a test adds), so it
starts its own PostgreSQL and Redis under the data dir (never the system ones on
5432/6379).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import redis

from wealist.devstack.servers import PostgresServer, free_port
from wealist.services import SERVICES

ROOT = Path(__file__).resolve().parents[2]
READY_LINE = "Ctrl-C to stop"


def service_ports() -> dict[str, int]:
    ports: set[int] = set()
    while len(ports) < len(SERVICES):
        ports.add(free_port())
    return dict(zip(SERVICES, sorted(ports), strict=True))


class Up:
    """A running ``wealist up`` whose output is collected line by line."""

    def __init__(
        self,
        data_dir: Path,
        ports: dict[str, int],
        *args: str,
        env: dict[str, str] | None = None,
    ) -> None:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("WEALIST_")}
        environ.update({f"WEALIST_{name.upper()}_PORT": str(port) for name, port in ports.items()})
        environ.update(env or {})
        self.data_dir = data_dir
        self.ports = ports
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wealist", "up", "--data-dir", str(data_dir), *args],
            env=environ,
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
