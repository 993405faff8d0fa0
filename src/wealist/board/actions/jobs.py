"""Scheduled work, safe with several replicas: due-date reminders, the file cleanup and
the pruning of the live board's event log."""

from __future__ import annotations

from wealist.board import store
from wealist.board.actions.common import settings_of
from wealist.board.actions.notify import Notices
from wealist.core.context import ServiceContext

__all__ = ("do_prune_events", "do_remind")

BATCH = 100


async def do_remind(ctx: ServiceContext) -> int:
    """One round of ``BOARD_DUE_SOON`` (due within the window) and ``BOARD_OVERDUE``
    notices to each board's assignee and participants. A board is claimed for its due date
    (SKIP LOCKED, then marked in the same transaction as the notices), so each fires once
    per due date however many replicas run this; a new due date re-arms it."""
    window = settings_of(ctx).due_soon_window_s
    sent = 0
    for kind in ("BOARD_OVERDUE", "BOARD_DUE_SOON"):
        while True:
            async with ctx.database.transaction() as tx:
                if kind == "BOARD_OVERDUE":
                    due = await store.boards.claim_overdue(tx, BATCH)
                else:
                    due = await store.boards.claim_due_soon(tx, window, BATCH)
                for claimed in due:
                    board = await store.boards.board_view(tx, claimed.id)
                    assert board is not None  # claimed (locked) in this transaction
                    notices = Notices(None, board, claimed.project_name)  # nobody acted
                    due_date = board.due_date.isoformat() if board.due_date else ""
                    notices.add(kind, [board.assignee_id, *board.participant_ids], dueDate=due_date)
                    await notices.send(tx)
            sent += len(due)
            if len(due) < BATCH:
                break
    return sent


async def do_prune_events(ctx: ServiceContext) -> int:
    """Forget live events older than the retention (a socket resuming from before them
    gets ``reset``)."""
    async with ctx.database.connection() as conn:
        return await store.events.prune_events(conn, settings_of(ctx).event_retention_s)
