"""A WebSocket client that reads only when told to (the slow-consumer test's "stalled" peer).

The ``websockets`` client reads the socket in a background task and buffers frames in
user space, so a test that "never reads" from it still drains TCP. This one does the
RFC 6455 handshake on a plain non-blocking socket with a small receive buffer and then
never calls ``recv`` until :meth:`RawWebSocket.drain`: the kernel's receive window fills,
TCP pushes back, and the server's sends really block.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ("Drained", "RawWebSocket")

OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9


@dataclass
class Drained:
    """What :meth:`RawWebSocket.drain` read: text frames, then the close code (None: EOF)."""

    texts: list[str] = field(default_factory=list)
    close_code: int | None = None
    eof: bool = False


class RawWebSocket:
    def __init__(self, sock: socket.socket, leftover: bytes, status: int) -> None:
        self.sock = sock
        self.buffer = leftover
        self.status = status

    @classmethod
    async def connect(cls, url: str, *, rcvbuf: int = 4096) -> RawWebSocket:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Before connect, so the window the client advertises is small from the start.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await loop.sock_connect(sock, (host, port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        await loop.sock_sendall(sock, request.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = await asyncio.wait_for(loop.sock_recv(sock, 65536), 10)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
        return cls(sock, rest, status)

    async def send_text(self, text: str) -> None:
        payload = text.encode()
        mask = os.urandom(4)
        header = bytes([0x80 | OP_TEXT])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        await asyncio.get_running_loop().sock_sendall(self.sock, header + mask + masked)

    async def drain(self, timeout: float = 30.0) -> Drained:
        """Read every frame until a close frame or EOF (fails after ``timeout`` seconds)."""
        loop = asyncio.get_running_loop()
        out = Drained()

        async def more() -> bool:
            chunk = await loop.sock_recv(self.sock, 1 << 20)
            if not chunk:
                return False
            self.buffer += chunk
            return True

        async def read() -> None:
            while True:
                frame = self._parse()
                if frame is None:
                    if not await more():
                        out.eof = True
                        return
                    continue
                opcode, payload = frame
                if opcode == OP_TEXT:
                    out.texts.append(payload.decode())
                elif opcode == OP_CLOSE:
                    out.close_code = (
                        struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                    )
                    return

        try:
            await asyncio.wait_for(read(), timeout)
        except ConnectionResetError:
            out.eof = True
        return out

    def _parse(self) -> tuple[int, bytes] | None:
        buf = self.buffer
        if len(buf) < 2:
            return None
        opcode = buf[0] & 0x0F
        masked = buf[1] & 0x80
        n = buf[1] & 0x7F
        pos = 2
        if n == 126:
            if len(buf) < 4:
                return None
            n = struct.unpack("!H", buf[2:4])[0]
            pos = 4
        elif n == 127:
            if len(buf) < 10:
                return None
            n = struct.unpack("!Q", buf[2:10])[0]
            pos = 10
        mask = b""
        if masked:
            mask = buf[pos : pos + 4]
            pos += 4
        if len(buf) < pos + n:
            return None
        payload = buf[pos : pos + n]
        if masked:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.buffer = buf[pos + n :]
        return opcode, payload

    def close(self) -> None:
        self.sock.close()
