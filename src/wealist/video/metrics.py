"""The original video service's own metrics (contract 2.6), in the process registry:
``video_service_rooms_{created,ended}_total``, ``..._participants_{joined,left}_total``
and the ``..._call_duration_seconds`` histogram. Counted after commit, so a rolled-back
change counts nothing. (The original's ``*_active_total`` gauges are left out: with
replicas they drift; count active rooms from the database instead.)"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from wealist.core.context import ServiceContext

__all__ = ("VideoMetrics", "metrics_of")

NS = "video_service"
DURATION_BUCKETS = (60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0)


class VideoMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        def counter(name: str, doc: str) -> Counter:
            return Counter(name, doc, namespace=NS, registry=registry)

        self.rooms_created = counter("rooms_created_total", "Rooms created")
        self.rooms_ended = counter("rooms_ended_total", "Calls ended")
        self.joined = counter("participants_joined_total", "Seats taken in calls")
        self.left = counter("participants_left_total", "Sessions ended in calls")
        self.duration = Histogram(
            "call_duration_seconds",
            "Length of ended calls",
            namespace=NS,
            registry=registry,
            buckets=DURATION_BUCKETS,
        )

    def call_ended(self, duration_s: int) -> None:
        self.rooms_ended.inc()
        self.duration.observe(duration_s)


def metrics_of(ctx: ServiceContext) -> VideoMetrics:
    """The service's metrics, registered once per process registry."""
    found = ctx.state.get("metrics")
    if not isinstance(found, VideoMetrics):
        found = ctx.state["metrics"] = VideoMetrics(ctx.runtime.metrics.registry)
    return found
