"""The board service as data: what ``wealist serve board`` runs."""

from __future__ import annotations

from wealist.board.settings import BoardSettings
from wealist.core.spec import ServiceSpec

__all__ = ("SERVICE",)

SERVICE = ServiceSpec(
    name="board",
    port=8000,
    summary="projects, tasks, fields, comments, attachments, kanban WebSocket",
    routes="wealist.board.routes:ROUTES",
    fast_routes="wealist.board.fast:FAST_ROUTES",
    settings=BoardSettings,
    database="board_db",
    outbox=True,
    realtime=True,
    blobs=True,
    health_prefixes=("",),
    hooks=("wealist.board.hooks:board_jobs",),
    event_handlers="wealist.board.actions.workspace_events:HANDLERS",
)
