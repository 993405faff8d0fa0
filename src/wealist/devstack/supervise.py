"""What keeps ``wealist up``'s processes running: a supervisor thread for each.

A service, the gateway, or an embedded Redis or PostgreSQL that exits (a crash, a
SIGKILL, the OOM killer) is started again on its port with the same settings after a
backoff (:class:`Backoff`: 0.5 s, doubling up to 30 s, back to 0.5 s once it had been
healthy for 60 s), while the rest of the stack runs on. Each exit, restart and recovery
is one line of ``up``'s output (a service that exited with an error code also shows the
end of its log). A service's Granian replaces a dead worker by itself; its supervisor says
so and when the service is ready again. Only Ctrl-C, SIGTERM or ``--exit-after`` stop the
whole stack.

Restarting the data servers is safe: PostgreSQL runs with fsync on and recovers from its
WAL, so every committed row (an acknowledged chat message, a board write) survives; Redis
reloads its last snapshot, and nothing acknowledged lives only there (chat messages and
events are in PostgreSQL; the auth service reloads the revocation list when its marker
key is missing).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
from typing_extensions import override

from wealist.devstack.gateway import Gateway
from wealist.devstack.prepare import make_traversable, say
from wealist.devstack.procs import (
    READY_TIMEOUT_S,
    Service,
    ctrl_c_blocked,
    describe_exit,
    kill_group,
    log_tail,
)
from wealist.devstack.servers import PostgresServer, RedisServer, port_open

__all__ = (
    "BACKOFF",
    "Backoff",
    "GatewayUnit",
    "PostgresUnit",
    "RedisUnit",
    "RestartError",
    "ServiceUnit",
    "Supervisor",
    "Unit",
    "report",
)

POLL_S = 0.25  # how often a supervisor looks at its process
READY_POLL_S = 0.5
SERVER_TAIL_LINES = 5

_output = threading.Lock()


def report(line: str) -> None:
    """``say`` for several threads: each message is printed whole."""
    with _output:
        say(line)


@dataclass(frozen=True)
class Backoff:
    """When to restart a process that exited: exponential, reset by a healthy run."""

    first_s: float = 0.5
    cap_s: float = 30.0
    healthy_s: float = 60.0  # a process healthy this long had recovered: back to first_s

    def in_a_row(self, previous: int, healthy_for_s: float | None) -> int:
        """The exits in a row, this one included: ``previous`` and one more, or a new row
        of one when the process had been healthy for ``healthy_s`` (None: never healthy
        since its last start)."""
        if healthy_for_s is not None and healthy_for_s >= self.healthy_s:
            return 1
        return previous + 1

    def delay(self, in_a_row: int) -> float:
        """Seconds to wait before the restart after the ``in_a_row``-th exit in a row."""
        doublings = min(max(in_a_row, 1) - 1, 64)
        return min(self.cap_s, self.first_s * 2.0**doublings)


BACKOFF = Backoff()


class RestartError(Exception):
    """A process could not be started again (the supervisor waits and tries once more)."""


class Unit(Protocol):
    """One supervised process, as its :class:`Supervisor` sees it."""

    name: str

    def ended(self) -> str | None:
        """None while it runs, else how it ended (``exited (code 1)``)."""

    def cleanup(self) -> str:
        """After an exit or a failed restart: clear what is left (a process group); returns
        details to show (the end of its log)."""

    def restart(self, note: str) -> None:
        """Start it again; raises :class:`RestartError` when that fails."""

    def news(self) -> str | None:
        """Something that happened while it runs and is worth a line (a worker replaced)."""

    def became_ready(self, stopping: threading.Event) -> bool:
        """Wait until it is healthy: True, or False if it exited or ``stopping`` was set."""


class Supervisor(threading.Thread):
    """Watches one :class:`Unit` until ``stopping`` is set; restarts it when it exits."""

    def __init__(self, unit: Unit, stopping: threading.Event, backoff: Backoff = BACKOFF):
        super().__init__(name=f"supervise-{unit.name}", daemon=True)
        self.unit = unit
        self.stopping = stopping
        self.backoff = backoff
        self.restarts = 0
        self.error: Exception | None = None

    @override
    def run(self) -> None:
        try:
            self._supervise()
        except Exception as exc:  # noqa: BLE001  # `up` must not run on with a unit unwatched
            self.error = exc
            report(f"{self.unit.name}: supervision failed: {exc!r}")

    def _supervise(self) -> None:
        unit = self.unit
        healthy_since: float | None = time.monotonic()  # started and ready before we began
        in_a_row = 0
        while not self.stopping.wait(POLL_S):
            news = unit.news()
            if news is not None:
                report(f"{unit.name}: {news}")
                if unit.became_ready(self.stopping):
                    report(f"{unit.name}: ready again")
                continue
            ended = unit.ended()
            if ended is None:
                continue
            details = unit.cleanup()
            while True:
                now = time.monotonic()
                healthy_for = None if healthy_since is None else now - healthy_since
                in_a_row = self.backoff.in_a_row(in_a_row, healthy_for)
                healthy_since = None
                delay = self.backoff.delay(in_a_row)
                self.restarts += 1
                shown = f"\n{details}" if details else ""
                report(
                    f"{unit.name}: {ended}; restarting in {delay:g} s "
                    f"(restart {self.restarts}){shown}"
                )
                if self.stopping.wait(delay):
                    return
                try:
                    unit.restart(f"restart {self.restarts} after it {ended}")
                    break
                except RestartError as exc:
                    ended, details = f"did not start ({exc})", unit.cleanup()
            if unit.became_ready(self.stopping):
                healthy_since = time.monotonic()
                report(f"{unit.name}: ready again (restart {self.restarts})")


class ServiceUnit:
    """A ``wealist serve`` process: its Granian main process, and the workers it keeps."""

    def __init__(
        self, service: Service, env: dict[str, str], ready_timeout_s: float = READY_TIMEOUT_S
    ) -> None:
        self.name = service.name
        self.service = service
        self.env = env
        self.ready_timeout_s = ready_timeout_s
        self._workers = service.workers()

    def ended(self) -> str | None:
        code = self.service.exited()
        return None if code is None else f"exited ({describe_exit(code)})"

    def cleanup(self) -> str:
        proc = self.service.proc
        if proc is None:
            return ""
        kill_group(proc.pid)  # a worker outlives a killed main process, holding the port
        return self.service.tail() if (proc.returncode or 0) > 0 else ""

    def restart(self, note: str) -> None:
        try:
            self.service.start(self.env, note)
        except OSError as exc:
            raise RestartError(str(exc)) from exc
        self._workers = set()

    def news(self) -> str | None:
        """A worker gone while the main process lives: Granian starts another."""
        proc = self.service.proc
        if proc is None or proc.poll() is not None:
            return None
        now = self.service.workers()
        gone = {pid for pid in self._workers - now if _parent_of(pid) != proc.pid}
        self._workers = now | (self._workers - now - gone)
        if not gone or proc.poll() is not None:
            return None
        pids = ", ".join(str(pid) for pid in sorted(gone))
        return f"worker {pids} exited; Granian is starting another"

    def became_ready(self, stopping: threading.Event) -> bool:
        deadline: float | None = time.monotonic() + self.ready_timeout_s
        last = "no answer"
        with httpx.Client(timeout=5.0) as client:
            while not stopping.is_set():
                if self.service.exited() is not None:
                    return False
                try:
                    answer = client.get(f"{self.service.url}/health/ready")
                    if answer.status_code == 200:
                        self._workers |= self.service.workers()
                        return True
                    last = f"{answer.status_code} {answer.text[:200]}"
                except httpx.TransportError as exc:
                    last = f"no answer ({type(exc).__name__})"
                if deadline is not None and time.monotonic() > deadline:
                    report(
                        f"{self.name}: not ready {self.ready_timeout_s:.0f} s after starting "
                        f"(/health/ready: {last}); still waiting"
                    )
                    deadline = None
                stopping.wait(READY_POLL_S)
        return False


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name; None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()


def _parent_of(pid: int) -> int | None:
    """The parent of a live process (None: gone, or a zombie)."""
    fields = _stat(pid)
    if not fields or fields[0] in ("Z", "X"):
        return None
    return int(fields[1])


def _pid_alive(pid: int) -> bool:
    """The process exists and is not a zombie (one that nobody reaped is dead too)."""
    if Path("/proc/self/stat").exists():
        return _parent_of(pid) is not None
    try:  # no procfs: ask the kernel
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Started:
    """Data servers: healthy once ``start()`` returned (it waits for the port)."""

    def news(self) -> str | None:
        return None

    def became_ready(self, stopping: threading.Event) -> bool:
        return True


class PostgresUnit(_Started):
    """The embedded PostgreSQL: its postmaster runs detached, watched by its PID."""

    def __init__(self, server: PostgresServer, root: Path) -> None:
        self.name = "postgres"
        self.server = server
        self.root = root
        self.pid = self._postmaster()

    def _postmaster(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.server.data / "postmaster.pid").read_text().split()[0])
        return None

    def ended(self) -> str | None:
        if self.pid is not None:
            if _pid_alive(self.pid):
                return None
            return f"exited (postmaster pid {self.pid} is gone)"
        if port_open(self.server.port):
            return None
        return f"exited (nothing listens on port {self.server.port})"

    def cleanup(self) -> str:
        return log_tail(self.server.root / "postgres.log", SERVER_TAIL_LINES)

    def restart(self, note: str) -> None:
        try:
            if self.server.user is not None:
                make_traversable(self.root, self.server.user)
            self.server.start()  # recovery from the WAL happens here
        except (RuntimeError, OSError) as exc:  # its log (shown next) says why
            raise RestartError(
                f"pg_ctl start failed, see {self.server.root / 'postgres.log'}"
            ) from exc
        self.pid = self._postmaster()


class RedisUnit(_Started):
    """The embedded Redis: restarted on its port, it reloads its last snapshot."""

    def __init__(self, server: RedisServer) -> None:
        self.name = "redis"
        self.server = server

    def ended(self) -> str | None:
        code = None if self.server.proc is None else self.server.proc.poll()
        return None if code is None else f"exited ({describe_exit(code)})"

    def cleanup(self) -> str:
        proc = self.server.proc
        if proc is not None and (proc.returncode or 0) < 0:  # killed: its log knows nothing
            return ""
        return log_tail(self.server.root / "redis.log", SERVER_TAIL_LINES)

    def restart(self, note: str) -> None:
        try:
            with ctrl_c_blocked():
                self.server.start()
        except (RuntimeError, OSError) as exc:
            raise RestartError(str(exc)) from exc


class GatewayUnit(_Started):
    """The nginx gateway: its master process, and the workers that may outlive it."""

    def __init__(self, gateway: Gateway) -> None:
        self.name = "gateway"
        self.gateway = gateway

    def ended(self) -> str | None:
        proc = self.gateway.proc
        code = None if proc is None else proc.poll()
        return None if code is None else f"exited ({describe_exit(code)})"

    def cleanup(self) -> str:
        if self.gateway.proc is not None:
            kill_group(self.gateway.proc.pid)  # its workers keep the port otherwise
        return ""

    def restart(self, note: str) -> None:
        try:
            self.gateway.start()
        except (RuntimeError, OSError) as exc:
            raise RestartError(str(exc).strip().splitlines()[0]) from exc


def supervise(units: list[Unit], stopping: threading.Event) -> list[Supervisor]:
    """A started :class:`Supervisor` for each unit."""
    supervisors = [Supervisor(unit, stopping) for unit in units]
    for supervisor in supervisors:
        supervisor.start()
    return supervisors
