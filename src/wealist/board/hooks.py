"""Background work of the board service: due-date reminders, the file cleanup and the
pruning of the live event log. Every job is safe with several replicas running it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from wealist.board.actions.attachments import do_purge
from wealist.board.actions.jobs import do_prune_events, do_remind
from wealist.board.settings import BoardSettings
from wealist.core.context import ServiceContext

__all__ = ("board_jobs",)


async def every(
    ctx: ServiceContext, name: str, interval_s: float, job: Callable[[], Awaitable[int]]
) -> None:
    """Run ``job`` every ``interval_s`` until cancelled; an outage waits for the next round."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await job()
        except Exception as exc:  # noqa: BLE001  # an outage must not end the job
            ctx.log.warning("board.job_failed", job=name, error=type(exc).__name__, detail=str(exc))


async def drain(batch: Callable[[], Awaitable[int]]) -> int:
    """Run ``batch`` until it finds nothing more to do; returns the total."""
    total = 0
    while (done := await batch()) > 0:
        total += done
    return total


async def board_jobs(ctx: ServiceContext) -> AsyncIterator[None]:
    settings = ctx.settings
    assert isinstance(settings, BoardSettings)
    jobs = {
        "reminders": (settings.reminder_interval_s, lambda: do_remind(ctx)),
        "purge": (settings.attachment_cleanup_interval_s, lambda: drain(lambda: do_purge(ctx))),
        "prune": (settings.event_retention_s / 24, lambda: do_prune_events(ctx)),
    }
    tasks = [
        asyncio.create_task(every(ctx, name, interval, job), name=f"board-{name}")
        for name, (interval, job) in jobs.items()
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
