"""A small client of the Prometheus HTTP API (``/api/v1/query``, ``/api/v1/query_range``).

Answers are decoded into typed samples; ``NaN`` and infinities (a ratio over no traffic,
a quantile of an empty histogram) become ``None`` so callers decide what "no data" means.
An unreachable or failing Prometheus is a 503 ``PROMETHEUS_UNAVAILABLE``; none configured
is a 503 ``PROMETHEUS_NOT_CONFIGURED``: the portal shows why, never made-up numbers.
"""

from __future__ import annotations

import math
from datetime import datetime

import httpx
import msgspec
import structlog

from wealist.core.errors import ServiceUnavailable

__all__ = ("Prometheus", "PrometheusNotConfigured", "PrometheusUnavailable", "Sample", "Series")

log = structlog.get_logger("wealist.ops.prometheus")


class PrometheusNotConfigured(ServiceUnavailable):
    code = "PROMETHEUS_NOT_CONFIGURED"
    default_message = "Monitoring is not configured: set WEALIST_OPS_PROMETHEUS_URL"


class PrometheusUnavailable(ServiceUnavailable):
    code = "PROMETHEUS_UNAVAILABLE"
    default_message = "Prometheus did not answer; try again shortly"


class Sample(msgspec.Struct, frozen=True):
    labels: dict[str, str]
    value: float | None


class Series(msgspec.Struct, frozen=True):
    labels: dict[str, str]
    points: list[tuple[int, float | None]]


class _Data(msgspec.Struct, frozen=True):
    resultType: str  # noqa: N815  # the API's spelling
    result: msgspec.Raw


class _Reply(msgspec.Struct, frozen=True):
    status: str
    data: _Data | None = None
    error: str = ""


class _VectorItem(msgspec.Struct, frozen=True):
    metric: dict[str, str]
    value: tuple[float, str]


class _MatrixItem(msgspec.Struct, frozen=True):
    metric: dict[str, str]
    values: list[tuple[float, str]]


_reply = msgspec.json.Decoder(_Reply)
_vector = msgspec.json.Decoder(list[_VectorItem])
_matrix = msgspec.json.Decoder(list[_MatrixItem])
_scalar = msgspec.json.Decoder(tuple[float, str])


def number(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


class Prometheus:
    def __init__(self, http: httpx.AsyncClient, base_url: str, timeout_s: float) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._timeout = timeout_s

    async def vector(self, promql: str) -> list[Sample]:
        """An instant query; a scalar answer comes back as one unlabelled sample."""
        data = await self._get("/api/v1/query", {"query": promql})
        if data.resultType == "scalar":
            _, text = _scalar.decode(data.result)
            return [Sample({}, number(text))]
        if data.resultType != "vector":
            raise PrometheusUnavailable(f"unexpected {data.resultType} answer")
        return [Sample(item.metric, number(item.value[1])) for item in _vector.decode(data.result)]

    async def matrix(
        self, promql: str, start: datetime, end: datetime, step_s: int
    ) -> list[Series]:
        params = {
            "query": promql,
            "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}",
            "step": str(step_s),
        }
        data = await self._get("/api/v1/query_range", params)
        if data.resultType != "matrix":
            raise PrometheusUnavailable(f"unexpected {data.resultType} answer")
        return [
            Series(item.metric, [(int(ts), number(text)) for ts, text in item.values])
            for item in _matrix.decode(data.result)
        ]

    async def _get(self, path: str, params: dict[str, str]) -> _Data:
        params = {**params, "timeout": f"{self._timeout:g}s"}
        try:
            response = await self._http.get(
                self._base + path, params=params, timeout=self._timeout + 1.0
            )
        except httpx.HTTPError as exc:
            log.warning("ops.prometheus_unreachable", error=type(exc).__name__)
            raise PrometheusUnavailable from exc
        try:
            reply = _reply.decode(response.content)
        except msgspec.DecodeError:
            reply = _Reply(status="error", error=f"HTTP {response.status_code}")
        if response.status_code != 200 or reply.status != "success" or reply.data is None:
            log.warning("ops.prometheus_error", status=response.status_code, error=reply.error)
            raise PrometheusUnavailable
        return reply.data
