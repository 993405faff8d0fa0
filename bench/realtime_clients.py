"""The real-time benchmark's clients (:mod:`bench.realtime`): processes that own whole
chats' sockets, and the readers of notification streams.

Each client process (uvloop, the websockets library's asyncio client) opens its rooms'
sockets to both targets once (the chat service and the raw fan-out), keeps the chat's
alive with ping frames, and runs the steps its parent asks for over a pipe: it paces its
share of a rate over its rooms and their members, books every send, answer and arrival in
a :class:`~bench.realtime_book.Tally`, and sends back the step's
:class:`~bench.realtime_book.Outcome` with its own CPU. A message's sender and its
receivers live in one process, so one clock times them.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import re
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bench.realtime_book import Outcome, Tally, error_code, frame_kind, frame_marker, message_frame

TICK_S = 0.002  # the senders' pacing tick
PING_EVERY_S = 20.0  # chat sockets say they live well within ws_client_timeout_s (90 s)
OPEN_AT_ONCE = 32  # handshakes in flight per process


async def wait_until(done: Callable[[], bool], deadline: float) -> None:
    """Poll ``done`` until it holds or ``deadline`` passes (a tally has no event to wait on)."""
    while not done() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)


@dataclass(frozen=True)
class Share:
    """A client process's chats: per room, each member's socket URL per target."""

    index: int
    urls: dict[str, list[list[str]]]  # target -> room -> member -> URL


class _Client:
    """One client process: its rooms' sockets for both targets, opened once, and the
    steps the parent asks for."""

    def __init__(self, share: Share, conn: Any) -> None:
        self.share = share
        self.conn = conn
        self.sockets: dict[str, list[list[Any]]] = {}
        self.recipients: dict[str, list[tuple[int, ...]]] = {}
        self.target: str | None = None
        self.tally: Tally | None = None
        self.closed_by_server: Counter[str] = Counter()
        self.unmatched_errors: Counter[str] = Counter()
        self.closing = False
        self.tasks: list[asyncio.Task[None]] = []

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, self.conn.recv)
            try:
                if command[0] == "open":
                    reply: Any = await self.open_all()
                elif command[0] == "step":
                    reply = await self.step(*command[1:])
                else:
                    await self.close_all()
                    self.conn.send(("closed",))
                    return
            except Exception:  # noqa: BLE001  # the parent raises it, with the traceback
                reply = ("error", traceback.format_exc())
            self.conn.send(reply)

    async def _connect(self, url: str) -> Any:
        last: Exception | None = None
        for attempt in range(4):
            try:
                return await connect(
                    url,
                    max_size=None,
                    compression=None,
                    ping_interval=None,  # the chat's own ping frames keep its sockets alive
                    open_timeout=30,
                    close_timeout=2,
                )
            except Exception as exc:  # noqa: BLE001  # refused, reset, timed out: retried
                last = exc
                await asyncio.sleep(0.5 * (attempt + 1))
        raise RuntimeError(f"could not open {url.split('?', maxsplit=1)[0]}: {last!r}")

    async def open_all(self) -> tuple[str, dict[str, int]]:
        gate = asyncio.Semaphore(OPEN_AT_ONCE)

        async def one(url: str) -> Any:
            async with gate:
                return await self._connect(url)

        opened = {}
        for target, rooms in self.share.urls.items():
            flat = [url for room in rooms for url in room]
            sockets = await asyncio.gather(*(one(u) for u in flat))
            members = len(rooms[0]) if rooms else 0
            self.sockets[target] = [
                sockets[r * members : (r + 1) * members] for r in range(len(rooms))
            ]
            self.recipients[target] = [
                tuple(range(r * members, (r + 1) * members)) for r in range(len(rooms))
            ]
            for n, ws in enumerate(sockets):
                self.tasks.append(asyncio.create_task(self._read(target, n, ws)))
            opened[target] = len(sockets)
        self.tasks.append(asyncio.create_task(self._keep_alive()))
        await asyncio.sleep(1.0)  # a socket refused after its handshake closes by now
        if sum(self.closed_by_server.values()):
            raise RuntimeError(f"sockets closed right after opening: {dict(self.closed_by_server)}")
        return ("opened", opened)

    async def _read(self, target: str, where: int, ws: Any) -> None:
        try:
            async for frame in ws:
                tally = self.tally
                if tally is None or self.target != target or not isinstance(frame, str):
                    continue
                marker = frame_marker(frame)
                if marker is None:
                    if '"ERROR"' in frame[:48]:
                        self.unmatched_errors[error_code(frame)] += 1
                    continue
                kind = frame_kind(frame)
                now = time.monotonic()
                if kind == "delivery":
                    tally.deliver(where, marker, now)
                elif kind == "ack":
                    tally.answer(marker, True, now)
                else:
                    tally.answer(marker, False, now, error_code(frame))
        except ConnectionClosed:
            pass
        if not self.closing:
            self.closed_by_server[target] += 1

    async def _keep_alive(self) -> None:
        """A ping frame from every chat socket every PING_EVERY_S, spread over the interval."""
        flat = [ws for room in self.sockets.get("chat", []) for ws in room]
        if not flat:
            return
        with contextlib.suppress(asyncio.CancelledError):
            while not self.closing:
                for ws in flat:
                    with contextlib.suppress(Exception):
                        await ws.send('{"type":"ping"}')
                    await asyncio.sleep(PING_EVERY_S / len(flat))

    async def step(
        self, target: str, rate: float, seconds: float, start_at: float, grace_s: float, tag: str
    ) -> tuple[str, Outcome, float, dict[str, int], dict[str, int]]:
        """Send ``rate`` messages/s (this process's share) for ``seconds`` from
        ``start_at``, over its rooms in turn and each room's members in turn, then wait up to
        ``grace_s`` for the answers and deliveries."""
        rooms = self.sockets[target]
        recipients = self.recipients[target]
        tally = Tally()
        self.unmatched_errors.clear()
        closed_before = dict(self.closed_by_server)
        total = round(rate * seconds) if rooms else 0
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        self.tally, self.target = tally, target
        cpu0 = time.process_time()
        started = time.monotonic()
        n = 0
        members = len(rooms[0]) if rooms else 1
        while n < total:
            due = min(total, int((time.monotonic() - started) * rate) + 1)
            while n < due:
                room = n % len(rooms)
                ws = rooms[room][(n // len(rooms)) % members]
                marker = f"{tag}.{self.share.index}.{n}"
                tally.send(marker, recipients[room], time.monotonic())
                try:
                    await ws.send(message_frame(marker))
                except ConnectionClosed:
                    tally.answer(marker, False, time.monotonic(), "SOCKET_CLOSED")
                n += 1
            await asyncio.sleep(TICK_S)
        await wait_until(tally.complete, time.monotonic() + grace_s)
        self.tally, self.target = None, None
        wall = max(1e-6, time.monotonic() - started)
        cpu = (time.process_time() - cpu0) / wall
        closed = {
            k: v - closed_before.get(k, 0)
            for k, v in self.closed_by_server.items()
            if v - closed_before.get(k, 0)
        }
        return ("step", tally.outcome(), cpu, closed, dict(self.unmatched_errors))

    async def close_all(self) -> None:
        self.closing = True
        for rooms in self.sockets.values():
            await asyncio.gather(
                *(ws.close() for room in rooms for ws in room), return_exceptions=True
            )
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def _client_process(conn: Any, share: Share) -> None:
    import uvloop

    uvloop.run(_Client(share, conn).serve())


class Clients:
    """The client processes, each with its share of the rooms; stopped on exit."""

    def __init__(self, shares: list[Share]) -> None:
        spawn = multiprocessing.get_context("spawn")  # no fork of a process with threads
        self.procs: list[Any] = []
        self.conns: list[Any] = []
        for share in shares:
            ours, theirs = spawn.Pipe()
            proc = spawn.Process(target=_client_process, args=(theirs, share), daemon=True)
            proc.start()
            self.procs.append(proc)
            self.conns.append(ours)
        self.rooms = [len(next(iter(s.urls.values()))) for s in shares]

    def call(self, commands: list[tuple[Any, ...]], timeout_s: float) -> list[Any]:
        for conn, command in zip(self.conns, commands, strict=True):
            conn.send(command)
        deadline = time.monotonic() + timeout_s
        replies = []
        for n, conn in enumerate(self.conns):
            if not conn.poll(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"client process {n} did not answer {commands[n][0]!r}")
            reply = conn.recv()
            if reply[0] == "error":
                raise RuntimeError(f"client process {n} failed:\n{reply[1]}")
            replies.append(reply)
        return replies

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.call([("close",)] * len(self.conns), 20)
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)


@contextlib.contextmanager
def clients(shares: list[Share]) -> Iterator[Clients]:
    pool = Clients(shares)
    try:
        yield pool
    finally:
        pool.close()


# --- notification streams ---------------------------------------------------------------------

_MARKER = re.compile(rb"rtn[0-9a-f]+\.\d+")


async def open_stream(base: str, token: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """One SSE stream read up to ``connected``; retried like EventSource would."""
    host, port = base.removeprefix("http://").split(":")
    seen = b""
    for attempt in range(10):
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            f"GET /api/notifications/stream?token={token} HTTP/1.1\r\nHost: bench\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        await writer.drain()
        seen = b""
        with contextlib.suppress(TimeoutError):
            while b"event: connected" not in seen:
                chunk = await asyncio.wait_for(reader.read(4096), 30)
                if not chunk:
                    break
                seen += chunk
        if b"event: connected" in seen:
            return reader, writer
        writer.close()
        await asyncio.sleep(0.2 * (attempt + 1))
    raise RuntimeError(f"stream refused: {seen[-300:]!r}")


class Streams:
    def __init__(self) -> None:
        self.tally: Tally | None = None
        self.closed = 0

    async def follow(self, where: int, reader: asyncio.StreamReader) -> None:
        """Events are read up to their blank line; a marker in one is a delivery."""
        buffer = b""
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                self.closed += 1
                return
            buffer += chunk
            cut = buffer.rfind(b"\n\n")
            if cut < 0:
                continue
            events, buffer = buffer[:cut], buffer[cut + 2 :]
            tally = self.tally
            if tally is None:
                continue
            now = time.monotonic()
            for found in _MARKER.finditer(events):
                tally.deliver(where, found.group().decode(), now)
