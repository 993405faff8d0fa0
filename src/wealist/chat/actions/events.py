"""The chat's event log: every change a client shows is stored with the chat's next rev
in the transaction that makes it and published once that commits; a socket that resumes
from a rev is replayed exactly what it missed (reliability T10)."""

from __future__ import annotations

from uuid import UUID

import msgspec

from wealist.chat import store
from wealist.chat.actions.common import CHAT_NOT_FOUND, publish, settings_of
from wealist.chat.frames import with_rev
from wealist.chat.rows import TailRow
from wealist.core.context import ServiceContext
from wealist.core.db import Conn, Tx
from wealist.core.errors import NotFound

__all__ = ("Replay", "do_prune_events", "record", "replay", "resume_point")


async def record(ctx: ServiceContext, tx: Tx, chat_id: UUID, body: str, rev: int = 0) -> str:
    """Store ``body`` (an encoded frame) as the chat's next event in ``tx`` and publish
    it after commit; the frame, rev first. ``rev``: taken already (a new message's)."""
    if rev:
        frame = with_rev(rev, body)
        await store.store_event(tx, chat_id, rev, frame)
    else:
        frame = await store.append_event(tx, chat_id, body[1:])
    tx.on_commit(lambda: publish(ctx, chat_id, frame))
    return frame


async def resume_point(conn: Conn, chat_id: UUID, after: int | None, rev: int | None) -> int:
    """The rev a client resumes after: its ``rev``, else the rev that announced message
    ``after`` (events since are replayed again: applying one twice changes nothing)."""
    if rev is not None:
        return rev
    if not after:
        return 0
    found = await store.rev_of_seq(conn, chat_id, after)
    return (1 << 62) if found is None else found  # a seq not sent yet: ahead


class Replay(msgspec.Struct, frozen=True):
    """A resume: the chat's tail when read, the events after the resume point (in order),
    or why the client must refetch instead (``reset``)."""

    tail: TailRow
    frames: list[tuple[int, str]]
    reset: str | None = None


async def replay(ctx: ServiceContext, conn: Conn, chat_id: UUID, since: int) -> Replay:
    """What a client that saw every event up to ``since`` missed.

    The tail is read first: an event commits together with the counter that covers it,
    so every event up to that rev is visible to the second read.
    """
    tail = await store.chat_tail(conn, chat_id)
    if tail is None:
        raise NotFound(CHAT_NOT_FOUND)
    missed = tail.last_rev - since
    if missed == 0:
        return Replay(tail, [])
    if missed < 0:
        return Replay(tail, [], "ahead")
    if missed > settings_of(ctx).replay_max:
        return Replay(tail, [], "too_far_behind")
    rows = await store.events_after(conn, chat_id, since, tail.last_rev, missed)
    if len(rows) < missed:  # pruned, or from before the log
        return Replay(tail, [], "too_old")
    return Replay(tail, [(r.rev, r.frame) for r in rows])


async def do_prune_events(ctx: ServiceContext) -> int:
    """Forget events older than the retention (a periodic job; safe on several replicas)."""
    async with ctx.database.connection() as conn:
        return await store.prune_events(conn, settings_of(ctx).event_retention_s)
