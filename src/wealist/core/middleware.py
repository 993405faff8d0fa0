"""The one raw-ASGI middleware around every app: request id, access log, metrics, headers.

Raw ASGI rather than framework middleware because it runs on every request: it binds the
request id (an incoming ``X-Request-ID`` is honoured when it is sane, else a new one is
made), echoes it back with the security headers, and after the response writes exactly one
access line with the route template, status, duration and database round trips. Query
strings are never logged (they may hold ``?token=``). Routes of the fast lane
(:mod:`wealist.core.fastlane`) are answered from here, inside all of that.

It is on the hot path of every request, so it does only what it must: request ids from a
per-process random prefix and a counter (unique, no syscall), the response's header list
extended in place with precomputed pairs, metric children looked up once per label set,
the access line rendered by orjson and written after the response (core.logging).
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from wealist.core.db.conn import QueryStats, request_query_stats
from wealist.core.fastlane import FastLane
from wealist.core.logging import ACCESS
from wealist.core.metrics import Metrics, SocketMetrics

__all__ = ("REQUEST_ID_KEY", "USER_ID_KEY", "RequestContextMiddleware", "request_id_of")

REQUEST_ID_KEY = "wealist.request_id"
USER_ID_KEY = "wealist.user_id"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_QUIET = frozenset({"/health", "/health/live", "/health/ready", "/metrics", "/ready"})

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-site"),
]

# 32 hex characters like a uuid4's: 16 random per process, then a counter.
_ID_PREFIX = secrets.token_hex(8)
_ids = itertools.count(1)
_bind = structlog.contextvars.bind_contextvars
_unbind = structlog.contextvars.unbind_contextvars


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_ids):016x}"


# An answer given before the body was read (a refusal: 401, 403, 404) waits until the rest
# of the body arrives: a server that closes on unread data resets the connection, and a
# proxy still sending (nginx) turns the refusal into a 502/503. Past this, or for a 413
# (the edge's limits equal the services', so nginx never sends such a body), it closes.
DRAIN_MAX_BYTES = 128 * 1024 * 1024


def request_id_of(scope: Scope | dict[str, Any]) -> str:
    return str(scope.get(REQUEST_ID_KEY, ""))


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _SANE_ID.match(text) else None
    return None


def _sends_a_body(scope: Scope) -> bool:
    if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):  # type: ignore[typeddict-item]
        return False
    for name, value in scope.get("headers", ()):
        if (name == b"content-length" and value != b"0") or name == b"transfer-encoding":
            return True
    return False


async def _drain(receive: Receive) -> None:
    """Read what is left of a request body, at most :data:`DRAIN_MAX_BYTES`."""
    left = DRAIN_MAX_BYTES
    while left > 0:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        left -= len(message.get("body", b""))


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        default_service: str,
        lane: FastLane | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.default_service = default_service
        self.lane = lane or None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Installed as the app's asgi_handler: lifespan never reaches it, only http/websocket.
        request_id = _incoming_request_id(scope) or new_request_id()
        scope[REQUEST_ID_KEY] = request_id  # type: ignore[literal-required]
        _bind(request_id=request_id)
        if scope["type"] == ScopeType.WEBSOCKET:
            try:
                await self._websocket(scope, receive, send)
            finally:
                _unbind("request_id")
            return
        await self._http(scope, receive, send, request_id)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count accepted sockets and how each one ended (the service's socket metrics)."""
        sockets: SocketMetrics | None = None
        code: int | None = None

        async def send_wrapper(message: Message) -> None:
            nonlocal sockets, code
            if message["type"] == "websocket.accept":
                sockets = self.metrics.service(self._service_of(scope)).sockets
                sockets.accepted()
            elif message["type"] == "websocket.close" and code is None:
                code = int(message.get("code", 1000))
            await send(message)

        async def receive_wrapper() -> ReceiveMessage:
            nonlocal code
            message = await receive()
            if message["type"] == "websocket.disconnect" and code is None:
                code = int(message.get("code", 1005))
            return message

        try:
            await self.app(scope, receive_wrapper, send_wrapper)
        finally:
            if sockets is not None:
                sockets.ended(1006 if code is None else code)

    def _service_of(self, scope: Scope) -> str:
        served = scope.get("wealist.service")  # set by the fast lane
        if served is not None:
            return str(served)
        handler: Any = scope.get("route_handler")  # absent when no route matched
        found = handler.opt.get("service") if handler is not None else None
        return str(found or self.default_service)

    async def _http(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        started = time.perf_counter()
        stats = QueryStats()
        token = request_query_stats.set(stats)
        status = 500
        echo = (b"x-request-id", request_id.encode())
        body_left = _sends_a_body(scope)

        async def receive_wrapper() -> ReceiveMessage:
            nonlocal body_left
            message = await receive()
            if not message.get("more_body", False):
                body_left = False
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal status, body_left
            if message["type"] == "http.response.start":
                status = message["status"]
                if body_left and status != 413:  # too large: not worth reading, close
                    body_left = False
                    await _drain(receive)
                headers = message.get("headers")
                if isinstance(headers, list):  # Litestar's own list: extend it in place
                    headers.append(echo)
                    headers.extend(SECURITY_HEADERS)
                else:
                    message["headers"] = [*(headers or ()), echo, *SECURITY_HEADERS]  # type: ignore[truthy-iterable]
            await send(message)

        try:
            reader = receive_wrapper if body_left else receive
            found = self.lane.match(scope) if self.lane is not None else None
            if found is not None:
                # The lane reads a whole body before answering (nothing left to drain) and
                # sends our headers with its own: no wrapper around its send.
                assert self.lane is not None
                extra = (echo, *SECURITY_HEADERS)
                status, declined = await self.lane.serve(found, scope, receive, send, extra)
                if declined is None:
                    return
                if declined is not receive:  # it read the body and hands it out again
                    body_left, reader = False, declined
            await self.app(scope, reader, send_wrapper)
        finally:
            request_query_stats.reset(token)
            self._finish(scope, status, time.perf_counter() - started, stats)
            _unbind("request_id", "user_id")

    def _finish(self, scope: Scope, status: int, seconds: float, stats: QueryStats) -> None:
        endpoint = scope.get("path_template") or "unmatched"
        method = scope["method"]  # type: ignore[typeddict-item]
        self.metrics.service(self._service_of(scope)).observe(method, endpoint, status, seconds)
        if status < 400 and endpoint in _QUIET:
            return
        fields: dict[str, Any] = {
            "method": method,
            "route": endpoint,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "db_calls": stats.calls,
            "db_ms": round(stats.seconds * 1000, 2),
        }
        user_id = scope.get(USER_ID_KEY)
        if user_id:
            fields["user_id"] = user_id
        ACCESS.write("error" if status >= 500 else "info", "http.request_completed", fields)
