"""Background work of the storage service: the cleanup of orphaned uploads and objects."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from wealist.core.context import ServiceContext
from wealist.storage.actions.cleanup import do_cleanup
from wealist.storage.settings import StorageSettings

__all__ = ("storage_runtime",)


async def cleanup_forever(ctx: ServiceContext, interval_s: float) -> None:
    """A round every ``interval_s``; an outage (database or blob store) waits for the next."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await do_cleanup(ctx)
        except Exception as exc:  # noqa: BLE001  # an outage must not end the job
            ctx.log.warning("storage.cleanup_failed", error=type(exc).__name__, detail=str(exc))


async def storage_runtime(ctx: ServiceContext) -> AsyncIterator[None]:
    settings = ctx.settings
    assert isinstance(settings, StorageSettings)
    task = asyncio.create_task(
        cleanup_forever(ctx, settings.cleanup_interval_s), name="storage-cleanup"
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
