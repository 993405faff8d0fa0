"""Success envelopes of the services that wrap their replies (board: ``{data, requestId}``).

The request id is the one the request-context middleware bound for this request, so the
body's ``requestId`` equals the ``X-Request-ID`` header (the original sent two unrelated
ids).
"""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec
import structlog

__all__ = ("Data", "reply")

T = TypeVar("T")


class Data(msgspec.Struct, Generic[T], rename="camel", frozen=True):
    data: T
    request_id: str


def reply(value: T) -> Data[T]:
    """``value`` wrapped as ``{data, requestId}``."""
    request_id = structlog.contextvars.get_contextvars().get("request_id", "")
    return Data(value, str(request_id))
