"""The fast lane: the hottest routes answered without the framework's per-request layers.

A bare Litestar app keeps about a third of what Granian serves on a trivial route; its
routing, connection object, dependency resolution and response machinery cost more than
the work of a cached read. A :class:`FastRoute` serves the same method and path straight
from the request-context middleware (request id, access log, metrics and security headers
still apply) and calls the same action as the Litestar handler, which stays registered:
it documents the route (OpenAPI) and serves what the lane declines.

The lane takes only plain requests: no ``Origin`` (CORS stays the framework's), no
``Idempotency-Key``, and for a POST a JSON body within the service's size limit. A handler
may decline anything else by returning ``None``; the request then goes to the framework
with its body intact. Errors raised by a handler are answered in the service's envelope,
exactly as the framework's exception handler does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
import structlog
from litestar.types import Receive, Scope, Send
from litestar.types.asgi_types import (
    HTTPDisconnectEvent,
    HTTPRequestEvent,
    HTTPResponseStartEvent,
)

from wealist.core.errors import AppError, PayloadTooLarge
from wealist.core.security import Principal, bearer_token

__all__ = ("Answer", "ErrorReply", "FastCall", "FastLane", "FastRoute", "json_answer")

# How an exception is answered: (exception, request id, route) -> the error and its body,
# the framework's exception handler's own rendering (core.app).
ErrorReply = Callable[[Exception, str, str], tuple[AppError, dict[str, Any]]]

JSON = b"application/json"
_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class Answer:
    """A response: status, extra headers (encoded), body bytes (JSON)."""

    body: bytes
    status: int = 200
    headers: Sequence[tuple[bytes, bytes]] = ()


def json_answer(value: object, status: int = 200, **headers: str) -> Answer:
    """``value`` encoded once by msgspec, with optional extra headers."""
    extra = [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]
    return Answer(_encode(value), status, extra)


@dataclass(slots=True)
class FastCall:
    """What a fast handler sees of the request."""

    ctx: Any  # the service's ServiceContext
    scope: Scope
    params: dict[str, str]  # path parameters
    body: bytes
    _caller: Principal | None = None

    @property
    def query(self) -> bytes:
        return self.scope.get("query_string", b"")

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.scope["headers"]:
            if key == name:
                return value
        return None

    async def caller(self) -> Principal:
        """The verified access token of ``Authorization: Bearer`` (401 otherwise)."""
        if self._caller is None:
            raw = self.header(b"authorization")
            token = bearer_token(raw.decode("latin-1") if raw is not None else None)
            self._caller = await self.ctx.verifier.verify(token)
            self.scope["wealist.user_id"] = self._caller.user_id  # type: ignore[typeddict-unknown-key]
            structlog.contextvars.bind_contextvars(user_id=self._caller.user_id)
        return self._caller


FastHandler = Callable[[FastCall], Awaitable[Answer | None]]


@dataclass(frozen=True, slots=True)
class FastRoute:
    """``method`` and a Litestar-style ``path`` (``/api/boards/project/{projectId:str}``:
    at most one parameter, the last segment) served by ``handler``."""

    method: str
    path: str
    handler: FastHandler

    @property
    def template(self) -> str:
        """The path as Litestar reports it in ``scope["path_template"]`` (metrics, logs)."""
        if "{" not in self.path:
            return self.path
        head, _, param = self.path.partition("{")
        return head + "{" + param.split(":", 1)[0].rstrip("}") + "}"


@dataclass(slots=True)
class _Bound:
    route: FastRoute
    ctx: Any
    reply: ErrorReply
    service: str
    param: str | None = None


@dataclass
class FastLane:
    """Fast routes of one app, looked up by method and path in one dict probe (static
    paths) or one prefix probe (a trailing parameter)."""

    max_body: int
    _static: dict[tuple[str, str], _Bound] = field(default_factory=dict)
    _prefixed: dict[tuple[str, str], _Bound] = field(default_factory=dict)

    def add(
        self,
        routes: Iterable[FastRoute],
        ctx: Any,
        reply: ErrorReply,
        service: str,
    ) -> None:
        for route in routes:
            if "{" not in route.path:
                self._static[(route.method, route.path)] = _Bound(route, ctx, reply, service)
                continue
            prefix, _, rest = route.path.partition("{")
            if not prefix.endswith("/") or not rest.endswith("}") or "/" in rest:
                raise ValueError(f"fast route {route.path}: only a last-segment parameter")
            name = rest[:-1].split(":", 1)[0]
            self._prefixed[(route.method, prefix)] = _Bound(route, ctx, reply, service, name)

    def __bool__(self) -> bool:
        return bool(self._static or self._prefixed)

    def match(self, scope: Scope) -> tuple[_Bound, dict[str, str]] | None:
        method: str = scope["method"]  # type: ignore[typeddict-item]
        path = scope["path"]
        bound = self._static.get((method, path))
        if bound is not None:
            return bound, {}
        head, _, last = path.rpartition("/")
        bound = self._prefixed.get((method, head + "/"))
        if bound is not None and last and bound.param is not None:
            return bound, {bound.param: last}
        return None

    async def serve(
        self,
        found: tuple[_Bound, dict[str, str]],
        scope: Scope,
        receive: Receive,
        send: Send,
        extra: Sequence[tuple[bytes, bytes]],
    ) -> tuple[int, Receive | None]:
        """Answer the request with ``extra`` headers: ``(status, None)``. Or decline it:
        ``(0, receive)``, the receive callable the framework must read the request from
        (``receive`` itself when nothing was read, else one handing out the body read)."""
        bound, params = found
        for key, _ in scope["headers"]:
            if key in (b"origin", b"idempotency-key"):
                return 0, receive
        scope["path_template"] = bound.route.template
        scope["wealist.service"] = bound.service  # type: ignore[typeddict-unknown-key]
        body = b""
        try:
            if scope["method"] not in ("GET", "HEAD", "DELETE"):  # type: ignore[typeddict-item]
                body = await _read_body(receive, self.max_body)
            answer = await bound.route.handler(FastCall(bound.ctx, scope, params, body))
        except Exception as exc:  # noqa: BLE001 - answered in the envelope, as the framework does
            request_id = str(scope.get("wealist.request_id", ""))
            error, payload = bound.reply(exc, request_id, bound.route.template)
            own = [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
            answer = Answer(_encode(payload), error.status, own)
        if answer is None:
            return 0, _replay(body)
        headers = [(b"content-type", JSON), (b"content-length", str(len(answer.body)).encode())]
        headers.extend(answer.headers)
        headers.extend(extra)
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": answer.status,
            "headers": headers,
        }
        await send(start)
        await send({"type": "http.response.body", "body": answer.body, "more_body": False})
        return answer.status, None


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Request body exceeds {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    """A receive that hands out the whole ``body`` read already, then disconnects."""
    sent = False

    async def replay() -> HTTPRequestEvent | HTTPDisconnectEvent:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
