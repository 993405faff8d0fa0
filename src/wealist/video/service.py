"""The video service as data: what ``wealist serve video`` runs."""

from __future__ import annotations

from wealist.core.spec import ServiceSpec
from wealist.video.settings import VideoSettings

__all__ = ("SERVICE",)

SERVICE = ServiceSpec(
    name="video",
    port=8004,
    summary="call rooms, LiveKit tokens and webhooks, TURN credentials, call history",
    routes="wealist.video.api:ROUTES",
    settings=VideoSettings,
    database="video_db",
    outbox=True,
    hooks=("wealist.video.hooks:video_runtime",),
    event_handlers="wealist.video.actions.workspace_events:HANDLERS",
    health_prefixes=("",),
)
