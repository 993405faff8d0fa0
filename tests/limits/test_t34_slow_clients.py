"""T34: slowloris, slow bodies and slow readers against a real ``wealist serve`` process
(Granian) and against the real nginx gateway in front of it, all at once, on 127.0.0.1.

- 200 + 200 connections trickle header bytes (one line a second, never finishing): Granian
  cuts them at its header read timeout (``wealist serve`` sets 10 s), nginx at
  ``client_header_timeout`` (10 s).
- 30 bodies stall half-sent through nginx: cut at ``client_body_timeout`` (10 s), and the
  service never sees them (nginx buffers request bodies). 30 more stall on Granian itself,
  which has no body timeout: they hold a request slot each until the client goes away.
- 10 clients never read a 4.7 MB answer through nginx: cut at ``send_timeout`` (10 s)
  (nginx has read the answer from the service already). 10 more do it to Granian, which
  has no send timeout either.
- Meanwhile a normal client, directly and through nginx, is answered every time.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.limits.support import OPS_ADMIN, OPS_ADMIN_ID
from tests.plugins.harness import ServiceProcess, TokenIssuer
from wealist.contracts.addresses import DEFAULT_PORTS
from wealist.devstack.gateway import Gateway

pytestmark = pytest.mark.slow

SERVER_TIMEOUT_S = 10  # Granian's header timeout under `wealist serve`; nginx's three
ATTACK_S = SERVER_TIMEOUT_S + 8  # how long an attacker keeps at it before it gives up
HEADER_TRICKLERS = 200
SLOW_BODIES = 30
SLOW_READERS = 10
BIG = "/api/ops/api/config/active"  # every active config, no sign-in needed: made big
BIG_CONFIGS = 72  # of 64 KiB each: more than the kernel's largest send buffer (4 MiB)


@dataclass
class Outcome:
    cut: bool  # the server ended it (close or reset) before the attacker gave up
    status: int | None = None  # the answer it got first, if any


def _status(data: bytes | bytearray) -> int | None:
    found = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return int(found.group(1)) if found else None


async def _connect(port: int, rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:  # a small window: the server's sends block sooner
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return sock


async def _closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Whether the server closed (or reset) ``sock`` within ``seconds``; what it sent."""
    loop = asyncio.get_running_loop()
    try:
        data = await asyncio.wait_for(loop.sock_recv(sock, 65_536), seconds)
    except TimeoutError:
        return False, b""
    except ConnectionError:
        return True, b""
    if not data:
        return True, b""
    with contextlib.suppress(TimeoutError, ConnectionError):  # the close after an answer
        while await asyncio.wait_for(loop.sock_recv(sock, 65_536), 1.0):
            pass
    return True, data


async def trickle_header(port: int, deadline: float) -> Outcome:
    """Start a request and send one more header line a second, never the blank line."""
    loop = asyncio.get_running_loop()
    sock = await _connect(port)
    try:
        await loop.sock_sendall(sock, b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        while time.monotonic() < deadline:
            closed, data = await _closed_within(sock, 1.0)
            if closed:
                return Outcome(True, _status(data))
            try:
                await loop.sock_sendall(sock, b"X-Trickle: 1\r\n")
            except ConnectionError:
                return Outcome(True)
        return Outcome(False)
    finally:
        sock.close()


async def stall_body(port: int, path: str, until: float | asyncio.Event) -> Outcome:
    """Announce 2 000 bytes, send half, then nothing (until a deadline, or until told)."""
    loop = asyncio.get_running_loop()
    sock = await _connect(port)
    try:
        await loop.sock_sendall(
            sock,
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Content-Length: 2000\r\n\r\n".encode()
            + b" " * 1000,
        )
        if isinstance(until, asyncio.Event):
            waiting = asyncio.ensure_future(until.wait())
            closing = asyncio.ensure_future(_closed_within(sock, ATTACK_S))
            await asyncio.wait([waiting, closing], return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            if not closing.done():
                closing.cancel()
                return Outcome(False)
            closed, data = closing.result()
        else:
            closed, data = await _closed_within(sock, max(0.0, until - time.monotonic()))
        return Outcome(closed, _status(data))
    finally:
        sock.close()


async def never_read(port: int, path: str, until: asyncio.Event) -> Outcome:
    """Ask for a large answer with a tiny receive window and read none of it until told."""
    loop = asyncio.get_running_loop()
    sock = await _connect(port, rcvbuf=4096)
    try:
        await loop.sock_sendall(
            sock, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        await until.wait()
        # then read for a second: a reset (or the end) comes at once if it was cut; a
        # connection still alive goes on delivering through its small window
        received = bytearray()
        try:
            async with asyncio.timeout(1.0):
                while piece := await loop.sock_recv(sock, 1 << 20):
                    received += piece
        except ConnectionError:
            return Outcome(True, _status(received))
        except TimeoutError:
            return Outcome(False, _status(received))
        head, _, body = bytes(received).partition(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: *(\d+)", head)
        whole = length is not None and len(body) >= int(length.group(1))
        return Outcome(not whole, _status(received))  # ended: cut unless it was all there
    finally:
        sock.close()


async def normal_client(base: str, path: str, until: asyncio.Event) -> list[int]:
    """One ordinary request every 0.5 s until told to stop: the statuses it got."""
    statuses: list[int] = []
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        while not until.is_set():
            try:
                statuses.append((await client.get(path)).status_code)
            except httpx.TransportError:
                statuses.append(0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(until.wait(), 0.5)
    return statuses


def _handled(metrics: str, endpoint: str) -> int:
    pattern = rf'_http_requests_total\{{[^}}]*endpoint="{re.escape(endpoint)}"[^}}]*\}} ([0-9.]+)'
    return int(sum(float(n) for n in re.findall(pattern, metrics)))


@pytest.fixture
async def big_answer(every_service: ServiceProcess, issuer: TokenIssuer) -> AsyncIterator[None]:
    """Active configs that make ``BIG`` larger than any socket buffer; removed after."""
    admin = {"Authorization": f"Bearer {issuer.token(OPS_ADMIN_ID, email=OPS_ADMIN)}"}
    base = "/api/ops/api/admin/config"
    made: list[str] = []
    async with httpx.AsyncClient(base_url=every_service.url, headers=admin, timeout=30) as ops:

        async def make(i: int) -> str:
            body = {"key": f"t34-{uuid.uuid4().hex[:8]}-{i}", "value": "v" * 65_536}
            answer = await ops.post(base, json=body)
            assert answer.status_code == 201, answer.text
            return str(answer.json()["data"]["id"])

        try:
            for start in range(0, BIG_CONFIGS, 8):
                made += await asyncio.gather(*(make(i) for i in range(start, start + 8)))
            size = len((await ops.get(BIG)).content)
            assert size > BIG_CONFIGS * 65_536, size
            yield
        finally:
            for start in range(0, len(made), 8):
                await asyncio.gather(*(ops.delete(f"{base}/{c}") for c in made[start : start + 8]))


async def test_slow_clients_are_cut_off_and_a_normal_client_is_served(
    every_service: ServiceProcess, gateway: Callable[..., Gateway], big_answer: None
) -> None:
    edge = gateway(dict.fromkeys(DEFAULT_PORTS, every_service))
    app, nginx = every_service.port, edge.port
    async with httpx.AsyncClient(base_url=every_service.url) as direct:
        before = _handled((await direct.get("/metrics")).text, "/api/workspaces/create")

    start = time.monotonic()
    deadline = start + ATTACK_S
    stop = asyncio.Event()
    normal = [
        asyncio.ensure_future(normal_client(every_service.url, "/health/ready", stop)),
        asyncio.ensure_future(normal_client(edge.url, "/api/svc/user/health/ready", stop)),
    ]

    def many(count: int, attack: Callable[[], Awaitable[Outcome]]) -> Any:
        return asyncio.gather(*(attack() for _ in range(count)))

    done = asyncio.Event()  # the attackers the servers should cut are over
    held = asyncio.gather(
        many(SLOW_BODIES, lambda: stall_body(app, "/api/chats", done)),
        many(SLOW_READERS, lambda: never_read(app, BIG, done)),
        many(SLOW_READERS, lambda: never_read(nginx, BIG, done)),
    )
    headers_app, headers_edge, bodies_edge = await asyncio.gather(
        many(HEADER_TRICKLERS, lambda: trickle_header(app, deadline)),
        many(HEADER_TRICKLERS, lambda: trickle_header(nginx, deadline)),
        many(SLOW_BODIES, lambda: stall_body(nginx, "/api/workspaces/create", deadline)),
    )
    # the slow readers' answers have waited as long as nginx's send_timeout by now
    await asyncio.sleep(max(0.0, start + SERVER_TIMEOUT_S + 2 - time.monotonic()))
    done.set()
    bodies_app, readers_app, readers_edge = await held
    stop.set()
    served = await asyncio.gather(*normal)
    # the normal client was answered every time, directly and through the gateway
    for statuses in served:
        assert statuses and set(statuses) == {200}, statuses
    # header tricklers: cut by both (Granian's header timeout, nginx's)
    assert all(o.cut for o in headers_app), sum(not o.cut for o in headers_app)
    assert all(o.cut for o in headers_edge), sum(not o.cut for o in headers_edge)
    # stalled bodies: nginx cuts them and the service never saw one
    assert all(o.cut for o in bodies_edge), sum(not o.cut for o in bodies_edge)
    async with httpx.AsyncClient(base_url=every_service.url) as direct:
        after = _handled((await direct.get("/metrics")).text, "/api/workspaces/create")
    assert after == before
    # readers that never read: nginx cuts them
    assert all(o.cut for o in readers_edge), [o for o in readers_edge if not o.cut]
    # Granian itself has no body or send timeout: those it holds until the client leaves
    assert not any(o.cut for o in bodies_app)
    assert not any(o.cut for o in readers_app)
