"""The scheduled cleanup: uploads never confirmed, and objects whose rows are gone.

Rows are claimed with ``FOR UPDATE SKIP LOCKED``, so any number of replicas run it at once
and each row is handled by one of them. Objects are deleted before their bookkeeping
rows: a failure rolls the batch back and the next round retries it.
"""

from __future__ import annotations

from wealist.core.context import ServiceContext
from wealist.storage import store

__all__ = ("do_cleanup",)


async def do_expire_uploads(ctx: ServiceContext, batch: int) -> int:
    """Pending uploads past their time: the rows go, their objects join the doomed."""
    async with ctx.database.transaction() as tx:
        rows = await store.claim_expired_uploads(tx, batch)
        if rows:
            await store.doom(tx, [r.file_key for r in rows])
            await store.drop_uploads(tx, [r.id for r in rows])
    return len(rows)


async def do_delete_doomed(ctx: ServiceContext, batch: int) -> int:
    async with ctx.database.transaction() as tx:
        keys = await store.claim_doomed(tx, batch)
        if keys and ctx.blobs is not None:
            await ctx.blobs.delete(keys)
            await store.forget_doomed(tx, keys)
    return len(keys) if ctx.blobs is not None else 0


async def do_cleanup(ctx: ServiceContext, batch: int = 100) -> int:
    """One round; returns how many uploads and objects it handled."""
    done = 0
    while (n := await do_expire_uploads(ctx, batch)) > 0:
        done += n
    while (n := await do_delete_doomed(ctx, batch)) > 0:
        done += n
    return done
