"""Email digests: one email per user for what stayed unread during their window.

A notification the user's preferences send by email is ``pending`` from its creation.
Once the oldest pending one of a user has waited ``digest_window_s``, one email lists
every pending notification that is still unread; the others are skipped. Each user's
rows are claimed with SKIP LOCKED inside the sending transaction, so replicas never
email the same rows; the rows are marked only after the server accepted the email (a
crash in between sends that digest again: at least once).
"""

from __future__ import annotations

from uuid import UUID

from wealist.core.context import ServiceContext
from wealist.noti import store
from wealist.noti.actions.common import settings_of
from wealist.noti.mailer import Mailer, RecipientRefusedError, digest_message

__all__ = ("do_send_digests",)


async def do_send_digests(ctx: ServiceContext, mailer: Mailer | None) -> int:
    """One round: every user whose window is over (up to a bound); returns emails sent.

    Without a mailer (SMTP not configured) due notifications are marked skipped, so they
    neither pile up nor arrive weeks later once email is set up.
    """
    settings = settings_of(ctx)
    async with ctx.database.connection() as conn:
        users = await store.due_digests(
            conn, settings.digest_window_s, settings.digest_users_per_round
        )
    sent = 0
    for user in users:
        try:
            sent += await _send_one(ctx, mailer, user)
        except Exception as exc:  # noqa: BLE001  # SMTP or database trouble: next round retries
            ctx.log.warning("noti.digest_failed", user_id=str(user), error=type(exc).__name__)
    return sent


async def _send_one(ctx: ServiceContext, mailer: Mailer | None, user: UUID) -> int:
    settings = settings_of(ctx)
    async with ctx.database.transaction() as tx:
        items = await store.claim_digest(tx, user, settings.digest_max_items)
        if not items:
            return 0  # another replica is sending them
        ids = [i.id for i in items]
        unread = [i for i in items if not i.is_read]
        address = await store.get_recipient(tx, user)
        if mailer is None or address is None or not unread:
            await store.finish_digest(tx, ids, [])
            return 0
        try:
            await mailer.send(digest_message(settings, address, unread))
        except RecipientRefusedError:
            ctx.log.warning("noti.digest_recipient_refused", user_id=str(user))
            await store.finish_digest(tx, ids, [])
            return 0
        await store.finish_digest(tx, ids, [i.id for i in unread])
    return 1
