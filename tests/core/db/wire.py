"""A TCP proxy in front of PostgreSQL that reads what the client sends.

It parses the frontend side of the protocol (the startup packet, then typed messages) and
forwards it message by message; the server's side is passed through as it comes.

- ``statements`` counts the statements the server is asked to run: a simple-protocol
  ``Query`` or an extended-protocol ``Execute``, whoever sent them (psycopg preparing a
  statement it ran 5 times on a connection sends a ``Parse`` of its own: not counted);
- ``cut_at(marker)`` arms a cut: the next ``Query``/``Parse`` whose text holds ``marker``
  is not forwarded, and its connection is closed on both sides, as if the server had died
  the instant the statement arrived (it never sees the statement).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections import Counter
from urllib.parse import urlsplit

from tests.plugins.faultproxy import repoint

__all__ = ("WireProxy",)

_NEGOTIATIONS = (80877103, 80877104)  # SSLRequest, GSSENCRequest: a startup packet follows
_STATEMENTS = (b"Q", b"E")  # Query, Execute
_TEXTS = (b"Q", b"P")  # Query, Parse: the messages that carry SQL text


class WireProxy:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self.port = 0
        self.statements = 0
        self.kinds: Counter[bytes] = Counter()
        self.cuts = 0  # statements cut so far
        self.accepted = 0
        self.live = 0  # connections open through the proxy
        self._marker = b""
        self._times = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> WireProxy:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    def proxied(self, url: str) -> str:
        """``url`` through the proxy, in clear text (the proxy must read the messages)."""
        sep = "&" if urlsplit(url).query else "?"
        return f"{repoint(url, self.port)}{sep}sslmode=disable&gssencmode=disable"

    def cut_at(self, marker: str, times: int = 1) -> None:
        self._marker = marker.encode()
        self._times = times

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self.live += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            self.live -= 1
            writer.close()
            return
        pipes = {
            asyncio.create_task(self._frontend(reader, up_writer)),
            asyncio.create_task(self._backend(up_reader, writer)),
        }
        self._tasks.update(pipes)
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pipes:
                task.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            self._tasks.difference_update(pipes)
            writer.close()
            up_writer.close()
            self.live -= 1

    async def _backend(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

    async def _frontend(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while True:  # the startup packet, after any encryption negotiation
                head = await reader.readexactly(8)
                length, code = struct.unpack("!ii", head)
                writer.write(head + await reader.readexactly(length - 8))
                await writer.drain()
                if code not in _NEGOTIATIONS:
                    break
            while True:
                head = await reader.readexactly(5)
                kind = head[:1]
                body = await reader.readexactly(struct.unpack("!i", head[1:])[0] - 4)
                if kind in _TEXTS and self._times > 0 and self._marker in body:
                    self._times -= 1
                    self.cuts += 1
                    return  # the link ends here: the server never sees this statement
                self.kinds[kind] += 1
                if kind in _STATEMENTS:
                    self.statements += 1
                writer.write(head + body)
                await writer.drain()
