"""The ops service as data: what ``wealist serve ops`` runs."""

from __future__ import annotations

from wealist.core.spec import ServiceSpec
from wealist.ops.settings import OpsSettings

__all__ = ("SERVICE",)

SERVICE = ServiceSpec(
    name="ops",
    port=8005,
    summary="admin API: portal users, audit log, app config, monitoring summaries",
    routes="wealist.ops.api:routes",
    settings=OpsSettings,
    database="ops_db",
    health_prefixes=("", "/api"),
)
