"""Participants (watchers and co-assignees of a board): add several, list, remove."""

from __future__ import annotations

from uuid import UUID

from wealist.board import store
from wealist.board.actions.boards import get_board_row, lock_board, record_write
from wealist.board.rows import ParticipantRow
from wealist.board.schemas.boards import (
    AddedParticipants,
    AddParticipants,
    ParticipantOut,
    ParticipantResult,
)
from wealist.core.context import ServiceContext
from wealist.core.errors import NotFound

__all__ = (
    "do_add_participants",
    "do_remove_participant",
    "list_participants",
    "participant_out",
)


def participant_out(row: ParticipantRow) -> ParticipantOut:
    return ParticipantOut(
        id=row.id, board_id=row.board_id, user_id=row.user_id, created_at=row.created_at
    )


async def do_add_participants(
    ctx: ServiceContext, me: UUID, req: AddParticipants
) -> AddedParticipants:
    """Each user is added unless they are one already or not in the board's workspace."""
    async with ctx.database.transaction() as tx:
        before, seat = await lock_board(ctx, tx, me, req.board_id)
        members = set()
        for user in req.user_ids:
            if (await ctx.membership.get(str(seat.workspace_id), str(user))).is_member:
                members.add(user)
        wanted = [u for u in req.user_ids if u in members and u not in before.participant_ids]
        added = set(await store.boards.add_participants(tx, req.board_id, wanted))
        results = [
            ParticipantResult(user_id=u, success=True)
            if u in added
            else ParticipantResult(
                user_id=u,
                success=False,
                error="Participant already exists"
                if u in before.participant_ids
                else "Failed to add participant",
            )
            for u in req.user_ids
        ]
        if added:
            await record_write(ctx, tx, me, seat, before)
    return AddedParticipants(
        total_requested=len(results),
        total_success=len(added),
        total_failed=len(results) - len(added),
        results=results,
    )


async def list_participants(ctx: ServiceContext, me: UUID, board_id: UUID) -> list[ParticipantOut]:
    async with ctx.database.connection() as conn:
        await get_board_row(ctx, conn, me, board_id)
        rows = await store.boards.participants_of_board(conn, board_id)
    return [participant_out(r) for r in rows]


async def do_remove_participant(ctx: ServiceContext, me: UUID, board_id: UUID, user: UUID) -> None:
    async with ctx.database.transaction() as tx:
        before, seat = await lock_board(ctx, tx, me, board_id)
        if not await store.boards.remove_participant(tx, board_id, user):
            raise NotFound("participant not found")
        await record_write(ctx, tx, me, seat, before)
