"""What the limit tests share: one representative write route per service, row counts of
every service database, and raw HTTP/1.1 over a socket (for what httpx will not send)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from tests.plugins.harness import INTERNAL_KEY, TokenIssuer

BODY_LIMIT = 1_048_576  # the kernel's default (WEALIST_MAX_BODY_BYTES), = nginx's 1m
KEY = {"x-internal-api-key": INTERNAL_KEY}
OPS_ADMIN = "limits-admin@example.com"  # WEALIST_OPS_ADMIN_EMAILS of the processes
OPS_ADMIN_ID = "00000000-0000-4000-8000-00000000ad01"


@dataclass(frozen=True)
class WriteRoute:
    """A route that stores something; ``body(n)`` is a valid body except for one field
    of ``n`` characters, and ``bound`` is that field's largest accepted length."""

    service: str
    path: str
    body: Callable[[int], dict[str, Any]]
    bound: int
    internal: bool = False  # called with the internal key instead of a user token
    # a GET to make first, as the same caller: what a first visit stores (ops makes the
    # portal user of a configured admin email) is not the write's doing
    warm_up: str | None = None


def _ws() -> str:
    return str(uuid.uuid4())


WRITE_ROUTES = [
    WriteRoute(
        "auth",
        "/api/auth/signup",
        lambda n: {"email": "a" * (n - 12) + "@example.com", "password": "pw-0123456789"},
        254,
    ),
    WriteRoute("user", "/api/workspaces/create", lambda n: {"workspaceName": "w" * n}, 100),
    WriteRoute("board", "/api/projects", lambda n: {"workspaceId": _ws(), "name": "p" * n}, 100),
    WriteRoute(
        "chat",
        "/api/chats",
        lambda n: {
            "workspaceId": _ws(),
            "chatType": "GROUP",
            "participants": [_ws()],
            "chatName": "c" * n,
        },
        100,
    ),
    WriteRoute(
        "noti",
        "/api/internal/notifications",
        lambda n: {
            "type": "WORKSPACE_INVITED",
            "actorId": _ws(),
            "targetUserId": _ws(),
            "workspaceId": _ws(),
            "resourceType": "workspace",
            "resourceId": _ws(),
            "resourceName": "n" * n,
        },
        255,
        internal=True,
    ),
    WriteRoute(
        "storage", "/api/storage/folders", lambda n: {"workspaceId": _ws(), "name": "f" * n}, 255
    ),
    WriteRoute("video", "/api/video/rooms", lambda n: {"workspaceId": _ws(), "name": "r" * n}, 100),
    WriteRoute(
        "ops",
        "/api/ops/api/admin/config",
        lambda n: {"key": "k", "value": "v" * n},
        65_536,
        warm_up="/api/ops/api/admin/config",
    ),
]


def headers_for(route: WriteRoute, issuer: TokenIssuer) -> dict[str, str]:
    if route.internal:
        return dict(KEY)
    if route.service == "ops":  # the portal's routes need a portal user: the first admin
        return {"Authorization": f"Bearer {issuer.token(OPS_ADMIN_ID, email=OPS_ADMIN)}"}
    return {"Authorization": f"Bearer {issuer.token(str(uuid.uuid4()))}"}


async def warm_up(client: Any, route: WriteRoute, headers: dict[str, str]) -> None:
    if route.warm_up is not None:
        answer = await client.get(route.warm_up, headers=headers)
        assert answer.status_code == 200, answer.text


async def row_counts(databases: dict[str, str]) -> dict[str, int]:
    """``<db>.<table>`` -> rows, for every table of every service database."""
    counts: dict[str, int] = {}
    for name, url in sorted(databases.items()):
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            cur = await conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
            for (table,) in await cur.fetchall():
                found = await conn.execute(
                    sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
                )
                row = await found.fetchone()
                assert row is not None
                counts[f"{name}.{table}"] = int(row[0])
    return counts


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _complete(raw: bytes) -> bool:
    head, found, body = raw.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def parse_answer(raw: bytes) -> RawAnswer:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = body[: int(headers["content-length"])]
    return RawAnswer(status, headers, body)


async def post_raw(
    port: int,
    path: str,
    headers: dict[str, str],
    body: bytes,
    *,
    chunked: bool = False,
    timeout: float = 30,
) -> RawAnswer:
    """POST over a fresh connection, reading the answer while the body is being sent.

    A server may answer (413) and close before the body is sent; httpx then reports a
    broken pipe instead of the answer, and so does asyncio (a failed write ends the
    transport before what arrived is read). Blocking sockets in threads read it.
    """
    return await asyncio.to_thread(_post_blocking, port, path, headers, body, chunked, timeout)


def _post_blocking(
    port: int, path: str, headers: dict[str, str], body: bytes, chunked: bool, timeout: float
) -> RawAnswer:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}")
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

        def send() -> None:
            with contextlib.suppress(OSError):
                for start in range(0, len(body), 65_536):
                    piece = body[start : start + 65_536]
                    sock.sendall(b"%x\r\n%b\r\n" % (len(piece), piece) if chunked else piece)
                if chunked:
                    sock.sendall(b"0\r\n\r\n")

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        raw = b""
        with contextlib.suppress(OSError):
            while not _complete(raw):
                piece = sock.recv(65_536)
                if not piece:
                    break
                raw += piece
    sender.join(timeout)
    assert raw, "no answer before the connection closed"
    return parse_answer(raw)
