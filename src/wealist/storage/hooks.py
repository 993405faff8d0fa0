"""Background work of the storage service: the cleanup of orphaned uploads and objects."""

from __future__ import annotations

from collections.abc import AsyncIterator

from wealist.core.context import ServiceContext
from wealist.core.jobs import periodic
from wealist.storage.actions.cleanup import do_cleanup
from wealist.storage.settings import StorageSettings

__all__ = ("storage_runtime",)


async def storage_runtime(ctx: ServiceContext) -> AsyncIterator[None]:
    settings = ctx.settings
    assert isinstance(settings, StorageSettings)
    async with periodic(
        "storage", {"cleanup": (settings.cleanup_interval_s, lambda: do_cleanup(ctx))}
    ):
        yield
