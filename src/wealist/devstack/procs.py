"""The service processes of ``wealist up``: start each, wait until all are ready, stop.

Each service logs to ``<data-dir>/logs/<svc>.log``. ``up`` keeps the logs of earlier runs
(:func:`rotate_log`: ``<svc>.log.1`` is the previous run, up to ``.log.3``), and every
start of a service, a restart included, appends to the current log after a marker line.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from wealist.devstack.prepare import UpError, say
from wealist.services import spec

__all__ = (
    "HOST",
    "Service",
    "StopRequestedError",
    "ctrl_c_blocked",
    "describe_exit",
    "kill_group",
    "log_tail",
    "rotate_log",
    "service_port",
    "wait_ready",
)

HOST = "127.0.0.1"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
LOG_TAIL_LINES = 20
LOG_GENERATIONS = 3  # <svc>.log.1 ... .log.3: the logs of the last three runs
LOG_TAIL_BYTES = 64 * 1024


@contextlib.contextmanager
def ctrl_c_blocked() -> Iterator[None]:
    """Children started inside inherit a blocked SIGINT, so Ctrl-C does not reach them.

    The mask is the calling thread's: a supervisor thread blocks it for its own children.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def rotate_log(path: Path, keep: int = LOG_GENERATIONS) -> None:
    """Shift ``path`` to ``path.1`` (``.1`` to ``.2`` ...), dropping what is beyond ``keep``."""
    for generation in range(keep, 0, -1):
        older = path.with_name(f"{path.name}.{generation}")
        newer = path if generation == 1 else path.with_name(f"{path.name}.{generation - 1}")
        if newer.exists():
            newer.replace(older)  # replaces the oldest kept one: it is dropped


def describe_exit(code: int) -> str:
    """How a process ended, from ``Popen.returncode``: ``code 1`` or ``signal 9, SIGKILL``."""
    if code >= 0:
        return f"code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"
    return f"signal {-code}, {name}"


def kill_group(pgid: int) -> None:
    """SIGKILL whatever is left of a process group (a worker that outlived its parent)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def log_marker(name: str, note: str) -> bytes:
    """The line before each start of a service in its log."""
    when = time.strftime("%Y-%m-%d %H:%M:%S")
    return f"===== wealist up {when}: {name} {note} =====\n".encode()


class StopRequestedError(Exception):
    """Ctrl-C or SIGTERM arrived while the stack was starting."""


@dataclass
class Service:
    """One ``wealist serve <name>`` process."""

    name: str
    port: int
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, env: Mapping[str, str], note: str = "starting") -> None:
        """Start the process, appending to its log after a marker line with ``note``."""
        command = [sys.executable, "-m", "wealist", "serve", self.name, "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            log.write(log_marker(self.name, note))
            log.flush()
            # Its own session: the terminal's Ctrl-C reaches only `up`, which stops it in order.
            self.proc = subprocess.Popen(
                command,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def exited(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def stop(self) -> None:
        """Wait for the process after ``terminate``; kill its whole group if it hangs."""
        if self.proc is None:
            return
        try:
            self.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            kill_group(self.proc.pid)
            self.proc.wait(5)
        kill_group(self.proc.pid)  # a worker whose Granian main process died before it

    def workers(self) -> set[int]:
        """PIDs of the process's children (Granian's workers); empty when unknown."""
        if self.proc is None:
            return set()
        found: set[int] = set()
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
                with contextlib.suppress(OSError, ValueError):
                    found.update(int(pid) for pid in (task / "children").read_text().split())
        return found

    def tail(self) -> str:
        return log_tail(self.log_path)


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` of a log, indented, under a line naming it ("" if unreadable)."""
    try:
        with path.open("rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - LOG_TAIL_BYTES))
            found = log.read().decode(errors="replace").splitlines()
    except OSError:
        return ""
    shown = "\n".join(f"  | {line}" for line in found[-lines:])
    return f"last lines of {path}:\n{shown}"


def service_port(name: str, environ: Mapping[str, str]) -> int:
    variable = f"WEALIST_{name.upper()}_PORT"
    value = environ.get(variable)
    if value is None:
        return spec(name).port
    try:
        return int(value)
    except ValueError:
        raise UpError(f"{variable}={value!r} is not a port number") from None


def wait_ready(services: list[Service], stopping: threading.Event) -> None:
    """Poll ``/health/ready`` of each service until all answer 200.

    Raises:
        UpError: one exited, or not all were ready in time (with the end of their logs).
        StopRequestedError: ``stopping`` was set meanwhile.
    """
    pending = list(services)
    last: dict[str, str] = {}
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(timeout=2.0) as client:
        while pending:
            for service in list(pending):
                code = service.exited()
                if code is not None:
                    raise UpError(f"{service.name}: exited with code {code}\n{service.tail()}")
                try:
                    answer = client.get(f"{service.url}/health/ready")
                except httpx.TransportError as exc:
                    last[service.name] = f"no answer ({type(exc).__name__})"
                    continue
                last[service.name] = f"{answer.status_code} {answer.text[:200]}"
                if answer.status_code == 200:
                    say(f"{service.name}: ready")
                    pending.remove(service)
            if pending and time.monotonic() > deadline:
                details = "\n".join(
                    f"{s.name}: not ready after {READY_TIMEOUT_S:.0f} s, /health/ready: "
                    f"{last.get(s.name, 'no answer')}\n{s.tail()}"
                    for s in pending
                )
                raise UpError(details)
            if pending and stopping.wait(0.2):
                raise StopRequestedError
