"""The board service as data: what ``wealist serve board`` runs."""

from __future__ import annotations

from wealist.core.spec import ServiceSpec

__all__ = ("SERVICE",)

SERVICE = ServiceSpec(
    name="board",
    port=8000,
    summary="projects, tasks, fields, comments, attachments, kanban WebSocket",
    routes="wealist.board.api:ROUTES",
    database="board_db",
    outbox=True,
    realtime=True,
    health_prefixes=("",),
)
