"""Retention: read notifications (and those never shown in the app) older than
``retention_days`` are deleted, and consumed event ids older than
``inbox_retention_days`` are forgotten.

Safe with several replicas: a round runs under a transaction-scoped advisory lock that
only one replica holds at a time (the others skip the round). Each user's highest
deleted seq is remembered, so a stream resuming from before it gets ``reset``.
"""

from __future__ import annotations

from wealist.core.context import ServiceContext
from wealist.noti import store
from wealist.noti.actions.common import settings_of

__all__ = ("do_purge", "do_purge_all")


async def do_purge(ctx: ServiceContext) -> int | None:
    """Delete one batch; returns how many notifications went, None when another replica
    is purging right now."""
    settings = settings_of(ctx)
    async with ctx.database.transaction() as tx:
        if not await store.try_retention_lock(tx):
            return None
        purged = await store.purge_old(tx, settings.retention_days, settings.retention_batch)
        shown = [p for p in purged if p.max_seq > 0]
        if shown:
            await store.mark_purged(tx, [p.user_id for p in shown], [p.max_seq for p in shown])
        await store.prune_inbox(tx, settings.inbox_retention_days, settings.retention_batch)
    return sum(p.deleted for p in purged)


async def do_purge_all(ctx: ServiceContext) -> int:
    """Batches until a short one (or another replica holds the lock)."""
    total = 0
    batch = settings_of(ctx).retention_batch
    while True:
        deleted = await do_purge(ctx)
        if deleted is None:
            return total
        total += deleted
        if deleted < batch:
            return total
