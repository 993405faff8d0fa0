"""The user service as data: what ``wealist serve user`` runs."""

from __future__ import annotations

from wealist.core.spec import ServiceSpec

__all__ = ("SERVICE",)

SERVICE = ServiceSpec(
    name="user",
    port=8081,
    summary="users, workspaces, members, join requests, per-workspace profiles",
    routes="wealist.user.api:ROUTES",
    database="user_db",
    outbox=True,
    health_prefixes=("", "/api"),
)
