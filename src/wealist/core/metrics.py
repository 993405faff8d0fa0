"""Prometheus metrics with the original service's names (contract 2.6).

Each service has the namespace ``<svc>_service``: ``board_service_http_requests_total
{method,endpoint,status}``, ``..._http_request_duration_seconds{method,endpoint}``, and
``..._db_connections_{open,in_use,idle,max}`` gauges read from the pool at scrape time.
``endpoint`` is always the route template, never the raw path, so cardinality is bounded.
With several Granian workers, set ``PROMETHEUS_MULTIPROC_DIR`` (``wealist serve`` does) and
the counters of every worker are merged at scrape time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from typing_extensions import override

__all__ = ("CONTENT_TYPE_LATEST", "Metrics", "ServiceMetrics", "SocketMetrics")

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServiceMetrics:
    """The HTTP and pool metrics of one service."""

    def __init__(self, service: str, registry: CollectorRegistry) -> None:
        ns = f"{service}_service"
        self.namespace = ns
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests",
            ["method", "endpoint", "status"],
            namespace=ns,
            registry=registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "HTTP request duration",
            ["method", "endpoint"],
            namespace=ns,
            registry=registry,
            buckets=BUCKETS,
        )

        self._registry = registry
        self._sockets: SocketMetrics | None = None
        # The children of each label set, looked up once: ``labels()`` builds and locks
        # per call. Bounded: endpoints are route templates, statuses a handful.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        key = (method, endpoint, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(method, endpoint, str(status)),
                self.duration.labels(method, endpoint),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    @property
    def sockets(self) -> SocketMetrics:
        """WebSocket gauges, registered the first time this service accepts a socket (so
        services without sockets export none)."""
        if self._sockets is None:
            self._sockets = SocketMetrics(self.namespace, self._registry)
        return self._sockets


# Close codes kept as label values; anything else is "other" (bounded cardinality).
KNOWN_CLOSE_CODES = frozenset(
    {1000, 1001, 1005, 1006, 1007, 1008, 1009, 1011, 1012, 1013, 4400, 4401, 4403, 4404, 4429}
)


class SocketMetrics:
    """``<svc>_service_websocket_connections_{active,opened_total,closed_total{code}}``.

    A close is counted with the code that ended the socket: the server's, else the
    client's (1006 when the peer vanished without a close frame). Alerts watch ``active``
    dropping at once and abnormal codes (1006, 1011, 1013) rising.
    """

    def __init__(self, namespace: str, registry: CollectorRegistry) -> None:
        self.active = Gauge(
            "websocket_connections_active",
            "WebSockets open now",
            namespace=namespace,
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.opened = Counter(
            "websocket_connections_opened_total",
            "WebSockets accepted",
            namespace=namespace,
            registry=registry,
        )
        self.closed = Counter(
            "websocket_connections_closed_total",
            "WebSockets closed, by close code",
            ["code"],
            namespace=namespace,
            registry=registry,
        )

    def accepted(self) -> None:
        self.opened.inc()
        self.active.inc()

    def ended(self, code: int) -> None:
        self.active.dec()
        self.closed.labels(str(code) if code in KNOWN_CLOSE_CODES else "other").inc()


PoolStats = Callable[[], dict[str, int]]


class _PoolCollector(Collector):
    """Reads pool gauges when scraped, so no background task keeps them fresh."""

    def __init__(self) -> None:
        self.pools: list[tuple[str, PoolStats]] = []

    @override
    def collect(self) -> Iterator[GaugeMetricFamily]:
        for namespace, stats in self.pools:
            values = stats()
            for key in ("open", "in_use", "idle", "max"):
                gauge = GaugeMetricFamily(
                    f"{namespace}_db_connections_{key}", f"Database connections {key}"
                )
                gauge.add_metric([], values.get(key, 0))
                yield gauge
            waits = GaugeMetricFamily(f"{namespace}_db_connection_wait_total", "Pool waits")
            waits.add_metric([], values.get("wait_total", 0))
            yield waits
            if "outbox_pending" in values:  # only where an outbox relay runs
                pending = GaugeMetricFamily(
                    f"{namespace}_outbox_pending", "Outbox events not delivered yet"
                )
                pending.add_metric([], values["outbox_pending"])
                yield pending
                age = GaugeMetricFamily(
                    f"{namespace}_outbox_oldest_pending_age_seconds",
                    "Age of the oldest undelivered outbox event",
                )
                age.add_metric([], values.get("outbox_oldest_age_s", 0))
                yield age


class Metrics:
    """One registry per process; services register their metric families into it."""

    def __init__(self) -> None:
        disable_created_metrics()  # no *_created series: they double the scrape for no use
        self.registry = CollectorRegistry()
        self._pools = _PoolCollector()
        self.registry.register(self._pools)
        self._services: dict[str, ServiceMetrics] = {}
        self._multiproc = os.environ.get("PROMETHEUS_MULTIPROC_DIR")

    def service(self, name: str) -> ServiceMetrics:
        if name not in self._services:
            self._services[name] = ServiceMetrics(name, self.registry)
        return self._services[name]

    def add_pool(self, service: str, stats: PoolStats) -> None:
        self._pools.pools.append((f"{service}_service", stats))

    def render(self) -> bytes:
        if self._multiproc:
            merged = CollectorRegistry()
            MultiProcessCollector(merged, path=self._multiproc)
            merged.register(self._pools)
            return generate_latest(merged)
        return generate_latest(self.registry)
