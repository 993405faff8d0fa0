"""A TCP fault proxy of our own (toxiproxy is in no registry we can reach): put it between a
service and PostgreSQL or Redis, or between a client and a service, and break the link
from the test.

The proxy runs on an asyncio loop in a thread of its own, so a test (or a fixture) that
blocks its own loop for a moment never stalls the bytes it forwards. Every control call
is synchronous and takes effect before it returns:

- ``delay(s)``: each chunk is held ``s`` seconds in each direction (order kept);
- ``stall()``: stop forwarding, both directions, on live and new connections; bytes wait
  in the kernel's buffers and flow again on ``heal()`` (a partition TCP rides out);
- ``reset()``: RST every live connection, both sides (a crashed host, a failover);
- ``refuse()``: stop listening, so new connections are refused (a stopped server);
- ``down()``: ``refuse()`` and ``reset()`` (a server that died); ``heal()`` undoes it all.

``fault_proxy(url)`` (the fixture) starts one in front of ``url`` and closes it after the
test; ``proxy.proxied(url)`` is ``url`` re-pointed at the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pytest

__all__ = ("FaultProxy", "LinkStats", "fault_proxy", "repoint")

T = TypeVar("T")
CHUNK = 65_536


def repoint(url: str, port: int, host: str = "127.0.0.1") -> str:
    """``url`` with its host and port replaced (user, password, path and query kept)."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}:{port}" if userinfo else f"{host}:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass
class LinkStats:
    accepted: int = 0  # client connections taken
    refused: int = 0  # connections the upstream refused (the proxy closed them)
    resets: int = 0  # connections cut by reset()
    bytes_up: int = 0  # client -> upstream
    bytes_down: int = 0  # upstream -> client
    live: set[_Link] = field(default_factory=set)


class _Link:
    """One proxied connection: the client's socket and the upstream's."""

    def __init__(self, client: asyncio.StreamWriter, upstream: asyncio.StreamWriter) -> None:
        self.client = client
        self.upstream = upstream
        self.tasks: list[asyncio.Task[None]] = []

    def abort(self, rst: bool) -> None:
        for writer in (self.client, self.upstream):
            sock = writer.get_extra_info("socket")
            if rst and sock is not None:
                with contextlib.suppress(OSError):  # linger 0: close() sends RST, not FIN
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()


class FaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int, *, port: int = 0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = port
        self.stats = LinkStats()
        self._delay = 0.0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._flowing: asyncio.Event | None = None
        self._handlers: set[asyncio.Task[Any]] = set()  # one per accepted connection

    @classmethod
    def before(cls, url: str) -> FaultProxy:
        """A proxy in front of the server ``url`` names (not started)."""
        parts = urlsplit(url)
        return cls(parts.hostname or "127.0.0.1", parts.port or 0)

    def start(self) -> FaultProxy:
        self._thread.start()
        self._call(self._start())
        return self

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    # --- controls (synchronous, effective on return) ----------------------------------

    def delay(self, seconds: float) -> None:
        self._delay = seconds

    def stall(self) -> None:
        self._call(self._set_flowing(False))

    def reset(self) -> int:
        """RST every live connection; returns how many were cut."""
        return self._call(self._reset())

    def refuse(self) -> None:
        self._call(self._stop_listening())

    def down(self) -> None:
        self.refuse()
        self.reset()

    def heal(self) -> None:
        self._delay = 0.0
        self._call(self._heal())

    def proxied(self, url: str) -> str:
        """``url`` (the upstream's) re-pointed at this proxy."""
        return repoint(url, self.port)

    @property
    def live(self) -> int:
        return len(self.stats.live)

    # --- the loop's side --------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _start(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        await self._listen()

    async def _listen(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()  # not wait_closed(): on 3.12+ it waits for every client
            self._server = None

    async def _set_flowing(self, on: bool) -> None:
        assert self._flowing is not None
        if on:
            self._flowing.set()
        else:
            self._flowing.clear()

    async def _reset(self) -> int:
        links = list(self.stats.live)
        for link in links:
            link.abort(rst=True)
        self.stats.resets += len(links)
        return len(links)

    async def _heal(self) -> None:
        await self._set_flowing(True)
        await self._listen()

    async def _close(self) -> None:
        await self._stop_listening()
        for link in list(self.stats.live):
            link.abort(rst=False)
        handlers = list(self._handlers)
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.accepted += 1
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        handler.add_done_callback(self._handlers.discard)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            self.stats.refused += 1
            writer.transport.abort()
            return
        except asyncio.CancelledError:  # close() while connecting: leave no socket open
            writer.transport.abort()
            raise
        link = _Link(writer, up_writer)
        self.stats.live.add(link)
        link.tasks = [
            asyncio.create_task(self._pipe(reader, up_writer, up=True)),
            asyncio.create_task(self._pipe(up_reader, writer, up=False)),
        ]
        try:
            await asyncio.wait(link.tasks, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            pass  # close(): the proxy is going away (asyncio logs a handler that raises)
        finally:
            # One side ended: end the other (neither PostgreSQL nor Redis half-closes).
            link.abort(rst=False)
            for task in link.tasks:
                task.cancel()
            await asyncio.gather(*link.tasks, return_exceptions=True)
            self.stats.live.discard(link)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, up: bool
    ) -> None:
        flowing = self._flowing
        assert flowing is not None
        with contextlib.suppress(OSError, ConnectionError):
            while True:
                await flowing.wait()
                data = await reader.read(CHUNK)
                if not data:
                    return
                if self._delay > 0:
                    await asyncio.sleep(self._delay)
                await flowing.wait()  # a stall that began meanwhile holds this chunk too
                writer.write(data)
                await writer.drain()
                if up:
                    self.stats.bytes_up += len(data)
                else:
                    self.stats.bytes_down += len(data)


@pytest.fixture
def fault_proxy() -> Iterator[Callable[[str], FaultProxy]]:
    """``proxy = fault_proxy(url)``: a started proxy in front of the server of ``url``."""
    started: list[FaultProxy] = []

    def make(url: str) -> FaultProxy:
        proxy = FaultProxy.before(url).start()
        started.append(proxy)
        return proxy

    yield make
    for proxy in started:
        proxy.close()
