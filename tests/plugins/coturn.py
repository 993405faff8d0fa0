"""A real coturn TURN server for tests, checking REST credentials with a shared secret.

``turnserver`` (Debian ``coturn``) runs with ``use-auth-secret``, so it accepts a
username ``<expiry>:<user>`` only with the base64 HMAC-SHA1 of it under the secret, and
only before the expiry. ``turnutils_peer`` is a UDP echo peer; :meth:`Coturn.relay` runs
``turnutils_uclient`` through the server to it and returns the exit status (0: the
allocation succeeded and data was relayed; coturn refusing the credentials fails it).
"""

from __future__ import annotations

import asyncio
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from wealist.devstack.servers import free_port, port_open

TURN_SECRET = "wealist-test-turn-secret-0123456789abcdef"  # >= 32 bytes
REALM = "wealist.test"


@dataclass
class Relayed:
    returncode: int
    output: str


@dataclass
class Coturn:
    port: int
    peer_port: int
    secret: str = TURN_SECRET

    @property
    def turn_url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    @property
    def stun_url(self) -> str:
        return f"stun:127.0.0.1:{self.port}"

    async def relay(self, username: str, password: str, *, tcp: bool = False) -> Relayed:
        """Allocate a relay with these credentials and send 5 messages through it."""
        args = ["turnutils_uclient", "-p", str(self.port), "-e", "127.0.0.1"]
        args += ["-r", str(self.peer_port), "-X", "-n", "5", "-u", username, "-w", password]
        if tcp:
            args.insert(1, "-t")
        proc = await asyncio.create_subprocess_exec(
            *args, "127.0.0.1", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
        return Relayed(proc.returncode or 0, out.decode(errors="replace"))


def _wait_listening(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Until the server accepts TCP on its port (it opens UDP and TCP together)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"turnserver exited {proc.returncode}:\n{log.read_text()}")
        if port_open(port):
            return
        time.sleep(0.1)
    raise TimeoutError(f"turnserver did not listen on {port}:\n{log.read_text()}")


@pytest.fixture(scope="session")
def coturn() -> Iterator[Coturn]:
    """One turnserver (and UDP echo peer) per test worker."""
    for tool in ("turnserver", "turnutils_uclient", "turnutils_peer"):
        assert shutil.which(tool), f"{tool} is missing: apt-get install coturn"
    root = Path(tempfile.mkdtemp(prefix="wealist-coturn-"))
    port, peer_port = free_port(), free_port()
    low = random.randrange(40_000, 49_000, 50)  # relay ports of this worker's server
    log = root / "turnserver.log"
    command = [
        "turnserver", "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
        f"--listening-port={port}", f"--min-port={low}", f"--max-port={low + 49}",
        "--use-auth-secret", f"--static-auth-secret={TURN_SECRET}", f"--realm={REALM}",
        "--fingerprint", "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers",
        f"--userdb={root / 'turndb'}", f"--pidfile={root / 'turnserver.pid'}",
        "--log-file=stdout", "--simple-log",
    ]  # fmt: skip
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        peer = subprocess.Popen(
            ["turnutils_peer", "-L", "127.0.0.1", "-p", str(peer_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    try:
        _wait_listening(server, port, log)
        yield Coturn(port, peer_port)
    finally:
        for proc in (peer, server):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        shutil.rmtree(root, ignore_errors=True)
