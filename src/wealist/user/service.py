"""The user service as data: what ``wealist serve user`` runs."""

from __future__ import annotations

from wealist.core.spec import ServiceSpec
from wealist.user.settings import UserSettings

__all__ = ("SERVICE",)

SERVICE = ServiceSpec(
    name="user",
    port=8081,
    summary="users, workspaces, members, join requests, per-workspace profiles",
    routes="wealist.user.api:ROUTES",
    fast_routes="wealist.user.fast:FAST_ROUTES",
    settings=UserSettings,
    database="user_db",
    outbox=True,
    blobs=True,
    hooks=("wealist.user.hooks:user_runtime",),
    health_prefixes=("", "/api"),
)
