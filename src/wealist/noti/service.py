"""The noti service as data: what ``wealist serve noti`` runs."""

from __future__ import annotations

from wealist.core.spec import ServiceSpec
from wealist.noti.settings import NotiSettings

__all__ = ("SERVICE",)

SERVICE = ServiceSpec(
    name="noti",
    port=8002,
    summary="stored notifications, preferences, SSE stream, digests",
    routes="wealist.noti.routes:ROUTES",
    settings=NotiSettings,
    database="noti_db",
    outbox=True,
    realtime=True,
    hooks=("wealist.noti.hooks:noti_runtime",),
    event_handlers="wealist.noti.actions.events:HANDLERS",
    health_prefixes=("",),
)
