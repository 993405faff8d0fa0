"""The stack under load: ``wealist up`` on free ports in a throwaway data dir.

Each run gets its own PostgreSQL, Redis and service processes (so a run never meets
another engineer's stack or an earlier run's data), plus the stand-in LiveKit server.
Settings that differ from a developer's ``wealist up``, and why:

- the auth test-token endpoint is on (load users sign in through it, as the original's
  k6 scripts did), with the sign-in throttles raised: every simulated user comes from
  127.0.0.1, which the per-IP limits would otherwise treat as one abusive client;
- video points at the stand-in LiveKit (:mod:`loadtests.fake_livekit`);
- no nginx gateway (``--no-gateway``): its per-IP rate limit would throttle a load that
  comes from one address.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

__all__ = ("SERVICES", "Stack", "running_stack")

SERVICES = ("auth", "user", "board", "chat", "noti", "storage", "video", "ops")
READY_TIMEOUT_S = 240.0  # a cold PostgreSQL cluster plus eight services on a busy 2-core box
LIVEKIT_KEY = "loadtest-key"


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on now (bound together so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class Stack:
    data_dir: Path
    ports: dict[str, int]
    internal_key: str
    env: dict[str, str]
    log_path: Path
    up: subprocess.Popen[bytes] | None = None
    livekit: subprocess.Popen[bytes] | None = None
    output: list[str] = field(default_factory=list)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def urls(self) -> dict[str, str]:
        return {name: self.url(name) for name in SERVICES}

    def service_pids(self) -> dict[str, int]:
        """The ``wealist serve`` processes (children of ``up``), PostgreSQL's postmaster and
        Redis, for CPU/RSS readings."""
        if self.up is None:
            return {}
        found: dict[str, int] = {}
        for child in _children(self.up.pid):
            try:
                argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in argv:
                name = argv[argv.index(b"serve") + 1].decode()
                found[name] = child
            elif argv and b"redis-server" in argv[0]:
                found["redis"] = child
        postmaster = self.data_dir / "stack" / "postgres" / "data" / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            found["postgres"] = int(postmaster.read_text().split()[0])
        return found


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _environment(data_dir: Path, ports: dict[str, int], livekit_port: int) -> dict[str, str]:
    secret = secrets.token_urlsafe(32)
    env = dict(os.environ)
    env.update({f"WEALIST_{name.upper()}_PORT": str(port) for name, port in ports.items()})
    env.update(
        {
            "WEALIST_INTERNAL_API_KEY": secrets.token_urlsafe(32),
            "WEALIST_AUTH_TEST_AUTH_ENABLED": "true",
            "WEALIST_AUTH_LOGIN_IP_LIMIT_PER_MIN": "1000000",
            "WEALIST_AUTH_SIGNUP_IP_LIMIT_PER_MIN": "1000000",
            "WEALIST_VIDEO_LIVEKIT_URL": f"http://127.0.0.1:{livekit_port}",
            "WEALIST_VIDEO_LIVEKIT_WS_URL": f"ws://127.0.0.1:{livekit_port}",
            "WEALIST_VIDEO_LIVEKIT_API_KEY": LIVEKIT_KEY,
            "WEALIST_VIDEO_LIVEKIT_API_SECRET": secret,
            "LIVEKIT_API_KEY": LIVEKIT_KEY,
            "LIVEKIT_API_SECRET": secret,
        }
    )
    # A stack from the caller's environment would not be this run's throwaway one.
    for name in ("WEALIST_POSTGRES_URL", "WEALIST_REDIS_URL", "WEALIST_S3_BUCKET"):
        env.pop(name, None)
    return env


def _pump(stream: object, sink: list[str], log: Path, echo: bool) -> None:
    with log.open("a") as out:
        for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
            line = raw.decode(errors="replace").rstrip()
            sink.append(line)
            out.write(line + "\n")
            out.flush()
            if echo:
                print(f"  [stack] {line}", flush=True)


def start(data_dir: Path, *, echo: bool = True) -> Stack:
    data_dir.mkdir(parents=True, exist_ok=True)
    *service_ports, livekit_port = free_ports(len(SERVICES) + 1)
    ports = dict(zip(SERVICES, service_ports, strict=True))
    env = _environment(data_dir, ports, livekit_port)
    stack = Stack(data_dir, ports, env["WEALIST_INTERNAL_API_KEY"], env, data_dir / "up.log")
    stack.livekit = subprocess.Popen(
        [sys.executable, "-m", "loadtests.fake_livekit", "--port", str(livekit_port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    stack.up = subprocess.Popen(
        # No gateway: its per-IP request limit (20 r/s) would throttle a load that all
        # comes from 127.0.0.1; the simulated users address each service directly.
        [
            sys.executable,
            "-m",
            "wealist",
            "up",
            "--no-gateway",
            "--data-dir",
            str(data_dir / "stack"),
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # our Ctrl-C reaches it only through stop()
    )
    threading.Thread(
        target=_pump, args=(stack.up.stdout, stack.output, stack.log_path, echo), daemon=True
    ).start()
    try:
        _wait_ready(stack)
    except BaseException:
        stop(stack)
        raise
    return stack


def _wait_ready(stack: Stack) -> None:
    assert stack.up is not None
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not any("services ready in" in line for line in stack.output):
        if stack.up.poll() is not None:
            tail = "\n".join(stack.output[-30:])
            raise RuntimeError(f"wealist up exited with {stack.up.returncode}:\n{tail}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the stack was not ready after {READY_TIMEOUT_S:.0f} s")
        time.sleep(0.2)
    with httpx.Client(timeout=5) as client:
        for name in SERVICES:
            client.get(f"{stack.url(name)}/health/ready").raise_for_status()


def stop(stack: Stack) -> None:
    """SIGTERM to ``up`` (it stops services, Redis, PostgreSQL in order), then LiveKit."""
    for proc, grace in ((stack.up, 60.0), (stack.livekit, 5.0)):
        if proc is None or proc.poll() is not None:
            continue
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@contextlib.contextmanager
def running_stack(data_dir: Path, *, echo: bool = True) -> Iterator[Stack]:
    stack = start(data_dir, echo=echo)
    try:
        yield stack
    finally:
        stop(stack)
