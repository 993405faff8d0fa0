"""The video service as data: what ``wealist serve video`` runs."""

from __future__ import annotations

from wealist.core.spec import ServiceSpec

__all__ = ("SERVICE",)

SERVICE = ServiceSpec(
    name="video",
    port=8004,
    summary="call rooms, LiveKit tokens and webhooks, TURN credentials, call history",
    routes="wealist.video.api:ROUTES",
    database="video_db",
    outbox=True,
    health_prefixes=("",),
)
