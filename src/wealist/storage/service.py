"""The storage service as data: what ``wealist serve storage`` runs."""

from __future__ import annotations

from wealist.core.spec import ServiceSpec

__all__ = ("SERVICE",)

SERVICE = ServiceSpec(
    name="storage",
    port=8003,
    summary="drives, folders, files, versions, shares, quotas",
    routes="wealist.storage.api:ROUTES",
    database="storage_db",
    outbox=True,
    health_prefixes=("", "/api"),
)
