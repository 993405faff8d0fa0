"""Background work of the user service: the cleanup of expired and replaced uploads."""

from __future__ import annotations

from collections.abc import AsyncIterator

from wealist.core.context import ServiceContext
from wealist.core.jobs import drain, periodic
from wealist.user.actions.images import do_purge_attachments
from wealist.user.settings import UserSettings

__all__ = ("user_runtime",)


async def user_runtime(ctx: ServiceContext) -> AsyncIterator[None]:
    settings = ctx.settings
    assert isinstance(settings, UserSettings)
    purge = (
        settings.attachment_cleanup_interval_s,
        lambda: drain(lambda: do_purge_attachments(ctx)),
    )
    async with periodic("user", {"purge": purge}):
        yield
