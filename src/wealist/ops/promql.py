"""The PromQL the monitoring routes run, built only from allow-listed names.

Every service exports ``<svc>_service_http_requests_total{method,endpoint,status}`` and
``<svc>_service_http_request_duration_seconds`` (core.metrics). The scrape config in
``deploy/monitoring/prometheus.yml`` copies ``<svc>`` into a ``service`` label, which is
what these queries group by; it works the same whether a process serves one service or
all of them. Scrapes, health probes and the OpenAPI document are not user traffic and
are left out. Nothing a client sends is ever spliced into a query: service names come from
the settings' allow-list and windows from validated settings.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ("EXCLUDED_ENDPOINTS", "TARGET_JOBS", "Promql")

EXCLUDED_ENDPOINTS = "/metrics|/schema.*|.*/health(/.*)?"
TARGET_JOBS = "wealist.*"  # the scrape jobs of deploy/monitoring/prometheus.yml


class Promql:
    def __init__(self, services: Iterable[str], window: str) -> None:
        names = sorted(services)
        self._names = "|".join(names)
        self.window = window

    def _series(self, suffix: str, matchers: str = "") -> str:
        extra = f",{matchers}" if matchers else ""
        return (
            f'{{__name__=~"({self._names})_service_{suffix}",'
            f'endpoint!~"{EXCLUDED_ENDPOINTS}"{extra}}}'
        )

    def requests(self, matchers: str = "") -> str:
        return self._series("http_requests_total", matchers)

    def rate_by_service(self, matchers: str = "", window: str | None = None) -> str:
        return f"sum by (service) (rate({self.requests(matchers)}[{window or self.window}]))"

    def increase_by(self, labels: str, matchers: str = "", window: str = "1h") -> str:
        return f"sum by ({labels}) (increase({self.requests(matchers)}[{window}]))"

    def total_increase(self, matchers: str = "", window: str = "1h") -> str:
        return f"sum(increase({self.requests(matchers)}[{window}]))"

    def ratio(self, matchers: str, window: str | None = None, by: str = "service") -> str:
        """The share of requests matching ``matchers`` (0-1), per ``by`` ("" for all)."""
        grouping = f" by ({by})" if by else ""
        w = window or self.window
        return (
            f"sum{grouping} (rate({self.requests(matchers)}[{w}]))"
            f" / sum{grouping} (rate({self.requests()}[{w}]))"
        )

    def quantile_by_service(self, q: float) -> str:
        buckets = self._series("http_request_duration_seconds_bucket")
        return f"histogram_quantile({q}, sum by (service, le) (rate({buckets}[{self.window}])))"

    def mean_latency(self) -> str:
        total = self._series("http_request_duration_seconds_sum")
        count = self._series("http_request_duration_seconds_count")
        return f"sum(rate({total}[{self.window}])) / sum(rate({count}[{self.window}]))"

    def active_services(self) -> str:
        return f"count({self.rate_by_service()} > 0)"

    def endpoints(self) -> str:
        return f"count(count by (service, endpoint) ({self.requests()}))"

    @staticmethod
    def targets(state: str = "") -> str:
        """Scraped service instances (``state``: "" all, "1" up, "0" down)."""
        selector = f'up{{job=~"{TARGET_JOBS}"}}'
        return f"count({selector} == {state})" if state else f"count({selector})"


SERVER_ERRORS = 'status=~"5.."'
CLIENT_ERRORS = 'status=~"4.."'
ANY_ERRORS = 'status=~"[45].."'
SUCCESSES = 'status=~"[23].."'

NODES = "count(node_uname_info)"
NODE_CPU_BUSY = '100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle"}[5m])))'
NODE_CPU_CORES = 'count(node_cpu_seconds_total{mode="idle"})'
NODE_MEMORY_USED = (
    "100 * (1 - sum(node_memory_MemAvailable_bytes) / sum(node_memory_MemTotal_bytes))"
)
NODE_MEMORY_GB = "sum(node_memory_MemTotal_bytes) / 1073741824"
