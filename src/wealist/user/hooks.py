"""Background work of the user service: the cleanup of expired and replaced uploads."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from wealist.core.context import ServiceContext
from wealist.user.actions.images import do_purge_attachments
from wealist.user.settings import UserSettings

__all__ = ("user_runtime",)


async def purge_forever(ctx: ServiceContext, interval_s: float) -> None:
    """Purge every ``interval_s``; errors (database or S3 down) wait for the next round.

    The first round waits too: nothing is due at start that cannot wait, and the pool is
    still filling then.
    """
    while True:
        await asyncio.sleep(interval_s)
        try:
            while await do_purge_attachments(ctx) > 0:
                pass
        except Exception as exc:  # noqa: BLE001  # an outage must not end the job
            ctx.log.warning("attachments.purge_failed", error=type(exc).__name__, detail=str(exc))


async def user_runtime(ctx: ServiceContext) -> AsyncIterator[None]:
    settings = ctx.settings
    assert isinstance(settings, UserSettings)
    task = asyncio.create_task(
        purge_forever(ctx, settings.attachment_cleanup_interval_s), name="user-purge"
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
