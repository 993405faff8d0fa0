"""The original noti service's own metrics (contract 2.6), in the process registry:
``noti_service_notifications_{created,read,deleted,delivered}_total`` and
``noti_service_sse_connections_{active,created_total,closed_total}``."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from wealist.core.context import ServiceContext

__all__ = ("NotiMetrics", "metrics_of")

NS = "noti_service"


class NotiMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        def counter(name: str, doc: str) -> Counter:
            return Counter(name, doc, namespace=NS, registry=registry)

        self.created = counter("notifications_created_total", "Notifications created")
        self.read = counter("notifications_read_total", "Notifications marked read")
        self.deleted = counter("notifications_deleted_total", "Notifications deleted")
        self.delivered = counter("notifications_delivered_total", "Notifications sent on streams")
        self.streams_opened = counter("sse_connections_created_total", "SSE streams opened")
        self.streams_closed = counter("sse_connections_closed_total", "SSE streams closed")
        self.streams_active = Gauge(
            "sse_connections_active",
            "SSE streams open now",
            namespace=NS,
            registry=registry,
            multiprocess_mode="livesum",
        )


def metrics_of(ctx: ServiceContext) -> NotiMetrics:
    """The service's metrics, registered once per process registry."""
    found = ctx.state.get("metrics")
    if not isinstance(found, NotiMetrics):
        found = ctx.state["metrics"] = NotiMetrics(ctx.runtime.metrics.registry)
    return found
