"""Service-to-service HTTP: a client with timeouts and retries, and the internal-key guard.

``/api/internal/*`` routes are reachable only with ``X-Internal-Api-Key`` (compared in
constant time) and are blocked at the gateway. Only idempotent requests are retried, on
connection errors and 502/503/504, with a short backoff.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

import httpx
import structlog

from wealist.core.errors import Forbidden, ServiceUnavailable, Unauthorized

__all__ = ("INTERNAL_KEY_HEADER", "InternalClient", "check_internal_key")

INTERNAL_KEY_HEADER = "x-internal-api-key"
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({502, 503, 504})

log = structlog.get_logger("wealist.internal")


def check_internal_key(presented: str | None, expected: str) -> None:
    """Raise unless ``presented`` equals the configured key. No key configured: refuse all."""
    if not expected:
        raise Forbidden("Internal API is disabled: no internal key is configured")
    if not presented:
        raise Unauthorized("Missing internal API key")
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        raise Unauthorized("Invalid internal API key")


class InternalClient:
    """Calls another wealist service with the internal key, timeouts and safe retries."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        internal_key: str,
        *,
        timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.1,
    ) -> None:
        self._client = client
        self._key = internal_key
        self._timeout = timeout
        self._retries = retries
        self._backoff = backoff

    async def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        request_id: str | None = None,
    ) -> httpx.Response:
        """Send one request; raises :class:`ServiceUnavailable` when the peer cannot answer."""
        method = method.upper()
        sent_headers = {INTERNAL_KEY_HEADER: self._key, **(headers or {})}
        if request_id:
            sent_headers["X-Request-ID"] = request_id
        attempts = 1 + (self._retries if method in IDEMPOTENT else 0)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = await self._client.request(
                    method,
                    url,
                    json=json,
                    content=content,
                    headers=sent_headers,
                    timeout=self._timeout,
                )
            except httpx.TransportError as exc:
                log.warning(
                    "internal.call_failed", method=method, url=url, error=type(exc).__name__
                )
                if last:
                    raise ServiceUnavailable(f"Upstream unavailable: {type(exc).__name__}") from exc
            else:
                if response.status_code not in RETRY_STATUSES or last:
                    return response
            await asyncio.sleep(self._backoff * (2**attempt))
        raise AssertionError("unreachable")  # pragma: no cover
