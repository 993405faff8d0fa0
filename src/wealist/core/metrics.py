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

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from typing_extensions import override

__all__ = ("CONTENT_TYPE_LATEST", "Metrics", "ServiceMetrics")

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

    def observe(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        self.requests.labels(method, endpoint, str(status)).inc()
        self.duration.labels(method, endpoint).observe(seconds)


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
