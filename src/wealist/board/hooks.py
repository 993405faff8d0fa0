"""Background work of the board service: due-date reminders, the file cleanup and the
pruning of the live event log. Every job is safe with several replicas running it."""

from __future__ import annotations

from collections.abc import AsyncIterator

from wealist.board.actions.attachments import do_purge
from wealist.board.actions.jobs import do_prune_events, do_remind
from wealist.board.settings import BoardSettings
from wealist.core.context import ServiceContext
from wealist.core.jobs import drain, periodic

__all__ = ("board_jobs",)


async def board_jobs(ctx: ServiceContext) -> AsyncIterator[None]:
    settings = ctx.settings
    assert isinstance(settings, BoardSettings)
    async with periodic(
        "board",
        {
            "reminders": (settings.reminder_interval_s, lambda: do_remind(ctx)),
            "purge": (settings.attachment_cleanup_interval_s, lambda: drain(lambda: do_purge(ctx))),
            "prune": (settings.event_retention_s / 24, lambda: do_prune_events(ctx)),
        },
    ):
        yield
