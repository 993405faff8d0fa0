"""Clients of the chaos scenarios: a socket that follows one sequenced stream (a chat, a
project) across reconnects to whichever process is alive, the way the web app does, and
records every seq it is handed, so a scenario can audit what each client saw."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.plugins.harness import ServiceProcess

# A stream's socket URL on one process, resuming after a seq (0: from the beginning).
UrlOf = Callable[[ServiceProcess, int], str]


@dataclass
class Transcript:
    """What one client was handed: seqs in arrival order, and the anomalies among them."""

    seqs: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    gaps: list[tuple[int, int]] = field(default_factory=list)  # (expected, got)
    resets: list[dict[str, Any]] = field(default_factory=list)

    @property
    def last(self) -> int:
        return self.seqs[-1] if self.seqs else 0

    def take(self, seq: int) -> None:
        if seq <= self.last:
            self.duplicates.append(seq)
            return
        if seq != self.last + 1:
            self.gaps.append((self.last + 1, seq))
        self.seqs.append(seq)

    def restart_from(self, seq: int) -> None:
        """After a reset the client refetched everything up to ``seq`` over REST."""
        self.seqs.extend(range(self.last + 1, seq + 1))


def stream_seq(frame: dict[str, Any]) -> int | None:
    """The seq a frame delivers: a chat message, or a sequenced board event."""
    if frame.get("type") == "MESSAGE_RECEIVED":
        return int(frame["seq"])
    if "seq" in frame and frame.get("type") not in ("MESSAGE_ACK", "RESET", "reset"):
        return int(frame["seq"])
    return None


def reset_seq(frame: dict[str, Any]) -> int | None:
    """A reset names the seq to follow from (chat ``lastSeq``, board ``currentSeq``)."""
    kind = frame.get("type")
    if kind == "RESET":
        return int(frame["lastSeq"])
    if kind == "reset":
        return int(frame["currentSeq"])
    return None


class FollowingSocket:
    """One client of one stream: reconnects with ``after=<last seq>`` (backoff with
    jitter) to its home process or, when that one is down, to any live one."""

    def __init__(
        self,
        url_of: UrlOf,
        procs: list[ServiceProcess],
        home: int = 0,
        *,
        on_frame: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.url_of = url_of
        self.procs = procs
        self.home = home
        self.transcript = Transcript()
        self.reconnects = 0
        self.connected = asyncio.Event()
        self.ws: ClientConnection | None = None
        self.on_frame = on_frame
        self._stop = False
        self._task: asyncio.Task[None] | None = None
        self._refused_by: ServiceProcess | None = None  # the last process that refused us
        self.refusals = 0  # handshakes refused or failed (e.g. 401 while fail-closed)
        self._go = asyncio.Event()  # cleared by pause(): stay away until resume()
        self._go.set()

    def _proc(self) -> ServiceProcess:
        """The home process when it is alive and did not just refuse us, else another."""
        alive = [p for p in self.procs if p.proc.poll() is None]
        preferred = self.procs[self.home]
        if preferred in alive and (preferred is not self._refused_by or len(alive) == 1):
            return preferred
        others = [p for p in alive if p is not self._refused_by]
        return (others or alive)[0]

    def start(self) -> FollowingSocket:
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        while not self._stop:
            await self._go.wait()
            proc = self._proc()
            url = self.url_of(proc, self.transcript.last)
            opened = False
            try:
                async with connect(url, open_timeout=5, max_size=None) as ws:
                    opened = True
                    self._refused_by = None
                    self.ws = ws
                    self.connected.set()
                    async for raw in ws:
                        self._frame(json.loads(raw))
            except (ConnectionClosed, InvalidStatus, OSError, TimeoutError):
                if not opened:
                    self.refusals += 1
                    self._refused_by = proc  # try another process next (as a gateway would)
            self.ws = None
            self.connected.clear()
            if not self._stop:
                self.reconnects += 1
                await asyncio.sleep(random.uniform(0.05, 0.3))

    def _frame(self, frame: dict[str, Any]) -> None:
        seq = stream_seq(frame)
        if seq is not None:
            self.transcript.take(seq)
        else:
            restart = reset_seq(frame)
            if restart is not None:
                self.transcript.resets.append(frame)
                self.transcript.restart_from(restart)
        if self.on_frame is not None:
            self.on_frame(frame)

    def pause(self) -> None:
        """Do not reconnect after the next drop until :meth:`resume`."""
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    async def drop(self) -> None:
        """Close the socket (the client goes away for a moment); it reconnects itself."""
        if self.ws is not None:
            await self.ws.close()

    async def stop(self) -> None:
        self._stop = True
        self._go.set()
        if self.ws is not None:
            await self.ws.close()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


class ChatSender:
    """Sends chat messages over a :class:`FollowingSocket`, one at a time, each until it
    is acked; a send cut by a kill is sent again with the same ``clientMessageId``."""

    def __init__(self, socket: FollowingSocket) -> None:
        self.socket = socket
        self.acks: dict[str, tuple[str, int]] = {}  # clientMessageId -> (messageId, seq)
        self.resends = 0
        self._waiting: dict[str, asyncio.Future[tuple[str, int]]] = {}
        socket.on_frame = self._frame

    def _frame(self, frame: dict[str, Any]) -> None:
        if frame.get("type") == "MESSAGE_ACK":
            waiter = self._waiting.get(frame["clientMessageId"])
            if waiter is not None and not waiter.done():
                waiter.set_result((frame["messageId"], frame["seq"]))

    async def send(self, client_id: str, content: str, *, ack_timeout: float = 10) -> None:
        frame = json.dumps({"type": "MESSAGE", "content": content, "clientMessageId": client_id})
        attempt = 0
        while True:
            await asyncio.wait_for(self.socket.connected.wait(), 60)
            waiter = self._waiting[client_id] = asyncio.get_running_loop().create_future()
            ws = self.socket.ws
            try:
                if ws is None:
                    raise ConnectionError
                if attempt:
                    self.resends += 1
                attempt += 1
                await ws.send(frame)
                self.acks[client_id] = await asyncio.wait_for(asyncio.shield(waiter), ack_timeout)
                return
            except (ConnectionClosed, ConnectionError, TimeoutError):
                await asyncio.sleep(0.05)  # the socket reconnects; same id again
            finally:
                self._waiting.pop(client_id, None)
