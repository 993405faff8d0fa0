"""The service processes of ``wealist up``: start each, wait until all are ready, stop."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from wealist.devstack.prepare import UpError, say
from wealist.services import spec

__all__ = ("HOST", "Service", "StopRequestedError", "service_port", "wait_ready")

HOST = "127.0.0.1"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
LOG_TAIL_LINES = 20


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

    def start(self, env: Mapping[str, str]) -> None:
        command = [sys.executable, "-m", "wealist", "serve", self.name, "--port", str(self.port)]
        with self.log_path.open("wb") as log:
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
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        shown = "\n".join(f"  | {line}" for line in lines[-LOG_TAIL_LINES:])
        return f"last lines of {self.log_path}:\n{shown}"


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
