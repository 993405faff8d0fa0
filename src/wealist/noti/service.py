"""The noti service as data: what ``wealist serve noti`` runs."""

from __future__ import annotations

from wealist.core.spec import ServiceSpec

__all__ = ("SERVICE",)

SERVICE = ServiceSpec(
    name="noti",
    port=8002,
    summary="stored notifications, preferences, SSE stream, digests",
    routes="wealist.noti.api:ROUTES",
    database="noti_db",
    outbox=True,
    realtime=True,
    health_prefixes=("",),
)
