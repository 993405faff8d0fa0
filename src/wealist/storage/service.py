"""The storage service as data: what ``wealist serve storage`` runs."""

from __future__ import annotations

from wealist.core.spec import ServiceSpec
from wealist.storage.settings import StorageSettings

__all__ = ("SERVICE",)

SERVICE = ServiceSpec(
    name="storage",
    port=8003,
    summary="drives, folders, files, versions, shares, quotas",
    routes="wealist.storage.api:ROUTES",
    settings=StorageSettings,
    database="storage_db",
    outbox=True,
    blobs=True,
    hooks=("wealist.storage.hooks:storage_runtime",),
    health_prefixes=("", "/api"),
)
