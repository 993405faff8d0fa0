"""``Idempotency-Key`` on POST (reliability T16): a retried request gets the first answer.

A client may send ``Idempotency-Key: <1-255 visible characters>`` with any POST of a
service whose database holds the kernel's tables (every service but auth and ops). The
first request with a key runs; when it ends below 500 its status, content type and body
are kept, and a request with the same key and the same method, path, query and body gets
that answer again, byte for byte, with ``Idempotent-Replayed: true`` - on any replica,
for ``idempotency_retention_s`` (24 h). The same key with another request is 422
``IDEMPOTENCY_KEY_REUSED``; while the first is still running, 409
``IDEMPOTENCY_IN_FLIGHT``. A 5xx is not kept: the retry runs again. A claim whose request
never finished (its process died) is taken over after ``idempotency_lease_s``.

Keys belong to the caller (the access token's subject): another user's request with the
same key runs for that user and never sees the first user's answer. A request without
the header, or without a valid token (the route answers 401 itself), is not touched.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from wealist.core.db import Database
from wealist.core.errors import AppError, Conflict, TokenRejected, ValidationFailed
from wealist.core.security import bearer_token

if TYPE_CHECKING:
    from wealist.core.context import ServiceContext

__all__ = ("HEADER", "idempotency_middleware", "prune_idempotency_keys")

HEADER = b"idempotency-key"
_SANE_KEY = re.compile(rb"^[\x21-\x7e]{1,255}$")
_KEPT_HEADERS = frozenset({b"content-type", b"location", b"x-next-cursor"})

# Ours when new, when expired, or when its first request died holding it (same request).
_CLAIM = """
INSERT INTO idempotency_keys (principal, key, fingerprint) VALUES (%(p)s, %(k)s, %(f)s)
ON CONFLICT (principal, key) DO UPDATE
SET fingerprint = EXCLUDED.fingerprint, created_at = now(), claimed_at = now(),
    status = NULL, headers = NULL, body = NULL
WHERE idempotency_keys.created_at < now() - make_interval(secs => %(retention)s)
   OR (idempotency_keys.status IS NULL
       AND idempotency_keys.fingerprint = EXCLUDED.fingerprint
       AND idempotency_keys.claimed_at < now() - make_interval(secs => %(lease)s))
RETURNING 1
"""
_EXISTING = """
SELECT fingerprint, status, headers, body FROM idempotency_keys
WHERE principal = %s AND key = %s
"""
_KEEP = """
UPDATE idempotency_keys SET status = %s, headers = %s::jsonb, body = %s
WHERE principal = %s AND key = %s
"""
_RELEASE = "DELETE FROM idempotency_keys WHERE principal = %s AND key = %s AND status IS NULL"
_PRUNE = "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => %s)"


class KeyReusedError(AppError):
    status = 422
    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "This Idempotency-Key was used for a different request"


class _Stored(msgspec.Struct):
    fingerprint: bytes
    status: int | None
    headers: list[tuple[str, str]] | None
    body: bytes | None


class _Answer:
    """What the app sent, as it is sent on."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.body = bytearray()


def idempotency_middleware(ctx: ServiceContext) -> Callable[[ASGIApp], ASGIApp]:
    """The service router's middleware (only services with the kernel's tables)."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            key = _key_of(scope)
            if key is None:
                await app(scope, receive, send)
                return
            principal = await _principal(ctx, scope)
            if principal is None:  # the route refuses the token itself
                await app(scope, receive, send)
                return
            messages, body = await _read_body(receive, ctx.settings.max_body_bytes)
            if body is None:  # over the limit: the framework answers 413
                await app(scope, _replay(messages, receive), send)
                return
            once = _Once(ctx, principal, key.decode(), _fingerprint(scope, body))
            await once.run(app, scope, _replay(messages, receive), send)

        return middleware

    return factory


async def prune_idempotency_keys(ctx: ServiceContext) -> int:
    """Forget keys past their retention (a periodic job; safe on several replicas)."""
    async with _database(ctx).connection() as conn:
        return await conn.execute(_PRUNE, (ctx.settings.idempotency_retention_s,))


class _Once:
    def __init__(self, ctx: ServiceContext, principal: str, key: str, fingerprint: bytes) -> None:
        self.db = _database(ctx)
        self.ctx = ctx
        self.ids = (principal, key)
        self.fingerprint = fingerprint

    async def run(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        if not await self._claim():
            await self._answer_again(send)
            return
        answer = _Answer()
        try:
            await app(scope, receive, _capturing(send, answer))
        except BaseException:
            await self._release()
            raise
        if 0 < answer.status < 500:
            await self._keep(answer)
        else:
            await self._release()

    async def _claim(self) -> bool:
        settings = self.ctx.settings
        params = {
            "p": self.ids[0],
            "k": self.ids[1],
            "f": self.fingerprint,
            "retention": settings.idempotency_retention_s,
            "lease": settings.idempotency_lease_s,
        }
        async with self.db.connection() as conn:
            return await conn.fetch_val(_CLAIM, params) is not None

    async def _answer_again(self, send: Send) -> None:
        async with self.db.connection() as conn:
            stored = await conn.fetch_one(_EXISTING, self.ids, _Stored)
        if stored is None:  # pruned in between: rare enough to ask for a retry
            raise Conflict("Retry this request", code="IDEMPOTENCY_IN_FLIGHT")
        if stored.fingerprint != self.fingerprint:
            raise KeyReusedError
        if stored.status is None:
            raise Conflict(
                "A request with this Idempotency-Key is still running",
                code="IDEMPOTENCY_IN_FLIGHT",
                headers={"Retry-After": "1"},
            )
        body = stored.body or b""
        headers = [(k.encode(), v.encode()) for k, v in stored.headers or ()]
        headers += [
            (b"content-length", str(len(body)).encode()),
            (b"idempotent-replayed", b"true"),
        ]
        await send({"type": "http.response.start", "status": stored.status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def _keep(self, answer: _Answer) -> None:
        headers = msgspec.json.encode(answer.headers).decode()
        async with self.db.connection() as conn:
            await conn.execute(_KEEP, (answer.status, headers, bytes(answer.body), *self.ids))

    async def _release(self) -> None:
        async with self.db.connection() as conn:
            await conn.execute(_RELEASE, self.ids)


def _database(ctx: ServiceContext) -> Database:
    if ctx.db is None:
        raise RuntimeError(f"{ctx.name} has no database for idempotency keys")
    return ctx.db


def _key_of(scope: Scope) -> bytes | None:
    if scope["type"] != ScopeType.HTTP or scope["method"] != "POST":
        return None
    for name, value in scope["headers"]:
        if name == HEADER:
            if not _SANE_KEY.match(value):
                raise ValidationFailed("Idempotency-Key: 1 to 255 visible ASCII characters")
            return value
    return None


async def _principal(ctx: ServiceContext, scope: Scope) -> str | None:
    authorization = next(
        (v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None
    )
    try:
        principal = await ctx.verifier.verify(bearer_token(authorization))
    except TokenRejected:
        return None
    return f"user:{principal.user_id}"


async def _read_body(receive: Receive, limit: int) -> tuple[list[ReceiveMessage], bytes | None]:
    """The request's messages, and its body unless it is over ``limit``."""
    messages: list[ReceiveMessage] = []
    body = bytearray()
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        body += message.get("body", b"")
        if len(body) > limit:
            return messages, None
        if not message.get("more_body", False):
            return messages, bytes(body)


def _replay(messages: list[ReceiveMessage], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Any:
        return pending.pop(0) if pending else await receive()

    return replayed


def _fingerprint(scope: Scope, body: bytes) -> bytes:
    digest = hashlib.sha256()
    for part in (
        b"POST",  # only POSTs get here
        scope.get("raw_path") or scope["path"].encode(),
        scope["query_string"],
        body,
    ):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.digest()


def _capturing(send: Send, answer: _Answer) -> Callable[[Message], Awaitable[None]]:
    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = [
                (k.decode("latin-1"), v.decode("latin-1"))
                for k, v in message.get("headers", ())
                if k.lower() in _KEPT_HEADERS
            ]
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")
        await send(message)

    return capture
