"""Background work of the noti service: the retention job and the email digests.

Both run in every replica; each is safe to run concurrently (see their actions).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from wealist.core.context import ServiceContext
from wealist.noti.actions.common import settings_of
from wealist.noti.actions.digests import do_send_digests
from wealist.noti.actions.retention import do_purge_all
from wealist.noti.mailer import Mailer, SmtpMailer
from wealist.noti.metrics import metrics_of

__all__ = ("noti_runtime", "repeat")


async def repeat(
    ctx: ServiceContext, name: str, every_s: float, job: Callable[[], Awaitable[object]]
) -> None:
    """Run ``job`` every ``every_s`` (after the first wait); failures wait for the next round."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await job()
        except Exception as exc:  # noqa: BLE001  # an outage must not end the job
            ctx.log.warning("noti.job_failed", job=name, error=type(exc).__name__, detail=str(exc))


async def noti_runtime(ctx: ServiceContext) -> AsyncIterator[None]:
    settings = settings_of(ctx)
    metrics_of(ctx)  # registered at start, so /metrics lists them before the first event
    mailer: Mailer | None = SmtpMailer(settings) if settings.smtp_host else None
    if mailer is None:
        ctx.log.info("noti.email_not_configured", hint="set WEALIST_NOTI_SMTP_HOST")
    ctx.state["mailer"] = mailer
    tasks = [
        asyncio.create_task(
            repeat(ctx, "retention", settings.retention_interval_s, lambda: do_purge_all(ctx)),
            name="noti-retention",
        ),
        asyncio.create_task(
            repeat(
                ctx, "digests", settings.digest_interval_s, lambda: do_send_digests(ctx, mailer)
            ),
            name="noti-digests",
        ),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
