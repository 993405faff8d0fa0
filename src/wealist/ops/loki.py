"""A small client of Loki's HTTP API (``query_range`` and label values).

Services log JSON lines (core.logging: ``event``, ``level``, ``ts``, ``service``,
``request_id``); entries are parsed from them, and plain-text lines are kept as they are.
Without ``WEALIST_OPS_LOKI_URL`` the logs routes answer 503 ``LOKI_NOT_CONFIGURED``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
import structlog

from wealist.core.errors import ServiceUnavailable
from wealist.ops.schemas import LogEntry

__all__ = ("Loki", "LokiNotConfigured", "LokiUnavailable", "parse_line")

log = structlog.get_logger("wealist.ops.loki")


class LokiNotConfigured(ServiceUnavailable):
    code = "LOKI_NOT_CONFIGURED"
    default_message = "Logs are not configured: set WEALIST_OPS_LOKI_URL"


class LokiUnavailable(ServiceUnavailable):
    code = "LOKI_UNAVAILABLE"
    default_message = "Loki did not answer; try again shortly"


class _Stream(msgspec.Struct, frozen=True):
    stream: dict[str, str]
    values: list[tuple[str, str]]


class _StreamData(msgspec.Struct, frozen=True):
    resultType: str  # noqa: N815  # the API's spelling
    result: list[_Stream]


class _QueryReply(msgspec.Struct, frozen=True):
    status: str
    data: _StreamData | None = None


class _LabelsReply(msgspec.Struct, frozen=True):
    status: str
    data: list[str] = msgspec.field(default_factory=list)


_query = msgspec.json.Decoder(_QueryReply)
_labels = msgspec.json.Decoder(_LabelsReply)
_line = msgspec.json.Decoder(dict[str, Any])


def parse_line(ns: str, line: str, labels: dict[str, str], service_label: str) -> LogEntry:
    when = datetime.fromtimestamp(int(ns) / 1e9, tz=UTC)
    service = labels.get(service_label, "")
    try:
        fields = _line.decode(line)
    except msgspec.DecodeError:
        return LogEntry(
            timestamp=when,
            service=service,
            level=labels.get("level", "info"),
            message=line,
            labels=labels,
        )
    message = fields.get("event") or fields.get("msg") or fields.get("message") or ""
    return LogEntry(
        timestamp=when,
        service=service or str(fields.get("service", "")),
        level=str(fields.get("level") or labels.get("level", "")),
        message=str(message),
        trace_id=str(fields.get("trace_id") or fields.get("traceId") or ""),
        span_id=str(fields.get("span_id") or fields.get("spanId") or ""),
        request_id=str(fields.get("request_id") or ""),
        labels=labels,
    )


class Loki:
    def __init__(self, http: httpx.AsyncClient, base_url: str, timeout_s: float) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._timeout = timeout_s

    async def query_range(
        self, logql: str, start: datetime, end: datetime, limit: int
    ) -> list[tuple[str, str, dict[str, str]]]:
        """(timestamp ns, line, stream labels) newest first."""
        params = {
            "query": logql,
            "start": str(int(start.timestamp() * 1e9)),
            "end": str(int(end.timestamp() * 1e9)),
            "limit": str(limit),
            "direction": "backward",
        }
        content = await self._get("/loki/api/v1/query_range", params)
        try:
            reply = _query.decode(content)
        except msgspec.DecodeError as exc:
            raise LokiUnavailable("Loki's answer could not be read") from exc
        if reply.status != "success" or reply.data is None or reply.data.resultType != "streams":
            raise LokiUnavailable
        found = [(ns, line, s.stream) for s in reply.data.result for ns, line in s.values]
        found.sort(key=lambda item: int(item[0]), reverse=True)
        return found[:limit]

    async def label_values(self, label: str, start: datetime, end: datetime) -> list[str]:
        params = {
            "start": str(int(start.timestamp() * 1e9)),
            "end": str(int(end.timestamp() * 1e9)),
        }
        content = await self._get(f"/loki/api/v1/label/{label}/values", params)
        try:
            reply = _labels.decode(content)
        except msgspec.DecodeError as exc:
            raise LokiUnavailable("Loki's answer could not be read") from exc
        if reply.status != "success":
            raise LokiUnavailable
        return sorted(reply.data)

    async def _get(self, path: str, params: dict[str, str]) -> bytes:
        try:
            response = await self._http.get(self._base + path, params=params, timeout=self._timeout)
        except httpx.HTTPError as exc:
            log.warning("ops.loki_unreachable", error=type(exc).__name__)
            raise LokiUnavailable from exc
        if response.status_code != 200:
            log.warning("ops.loki_error", status=response.status_code)
            raise LokiUnavailable
        return response.content
