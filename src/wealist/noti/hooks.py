"""Background work of the noti service: the retention job and the email digests.

Both run in every replica; each is safe to run concurrently (see their actions).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from wealist.core.context import ServiceContext
from wealist.core.jobs import periodic
from wealist.noti.actions.common import settings_of
from wealist.noti.actions.digests import do_send_digests
from wealist.noti.actions.retention import do_purge_all
from wealist.noti.actions.stream import check_tails
from wealist.noti.mailer import Mailer, SmtpMailer
from wealist.noti.metrics import metrics_of

__all__ = ("noti_runtime",)


async def noti_runtime(ctx: ServiceContext) -> AsyncIterator[None]:
    settings = settings_of(ctx)
    metrics_of(ctx)  # registered at start, so /metrics lists them before the first event
    mailer: Mailer | None = SmtpMailer(settings) if settings.smtp_host else None
    if mailer is None:
        ctx.log.info("noti.email_not_configured", hint="set WEALIST_NOTI_SMTP_HOST")
    ctx.state["mailer"] = mailer
    jobs = {
        "retention": (settings.retention_interval_s, lambda: do_purge_all(ctx)),
        "digests": (settings.digest_interval_s, lambda: do_send_digests(ctx, mailer)),
        "tail-check": (settings.sse_tail_check_s, lambda: check_tails(ctx)),
    }
    async with periodic("noti", jobs):
        yield
