"""Call history and transcripts.

A room's history row exists from the room's creation; it is listed and readable once
the call has ended. The transcript is saved against the room and linked to its history
from the start (the original linked it to the nil uuid).
"""

from __future__ import annotations

from uuid import UUID

from wealist.core.context import ServiceContext
from wealist.core.db import Conn
from wealist.core.errors import Forbidden, NotFound, ValidationFailed
from wealist.video import store
from wealist.video.actions.common import (
    access_room,
    access_workspace,
    decode_keyset,
    encode_cursor,
)
from wealist.video.rows import HistoryParticipantRow, HistoryRow, TranscriptRow
from wealist.video.schemas import (
    CallHistoryOut,
    HistoryParticipantOut,
    SaveTranscript,
    TranscriptOut,
)

__all__ = (
    "HISTORY_PAGE_MAX",
    "HistoryPage",
    "do_save_transcript",
    "get_history",
    "get_transcript",
    "list_my_history",
    "list_workspace_history",
)

HISTORY_PAGE_MAX = 100
HISTORY_NOT_FOUND = "call history not found"

HistoryPage = tuple[list[CallHistoryOut], int, str | None]  # page, total, next cursor


def history_out(row: HistoryRow, people: list[HistoryParticipantRow]) -> CallHistoryOut:
    if row.ended_at is None:  # listed and read only once ended
        raise NotFound(HISTORY_NOT_FOUND)
    return CallHistoryOut(
        id=row.id,
        room_id=row.room_id,
        room_name=row.room_name,
        workspace_id=row.workspace_id,
        creator_id=row.creator_id,
        started_at=row.started_at,
        ended_at=row.ended_at,
        duration_seconds=row.duration_seconds,
        max_participants=row.max_participants,
        total_participants=row.total_participants,
        participants=[
            HistoryParticipantOut(
                user_id=p.user_id,
                name=p.name,
                joined_at=p.joined_at,
                left_at=p.left_at,
                duration_seconds=p.duration_seconds,
            )
            for p in people
            if p.room_id == row.room_id
        ],
    )


def transcript_out(row: TranscriptRow) -> TranscriptOut:
    return TranscriptOut(
        id=row.id,
        call_history_id=row.call_history_id,
        room_id=row.room_id,
        content=row.content,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _with_people(conn: Conn, rows: list[HistoryRow]) -> list[CallHistoryOut]:
    people = await store.history_participants(conn, [r.room_id for r in rows]) if rows else []
    return [history_out(r, people) for r in rows]


def _next(rows: list[HistoryRow], limit: int) -> str | None:
    if len(rows) < limit or rows[-1].ended_at is None:
        return None
    return encode_cursor(rows[-1].ended_at, rows[-1].id)


async def list_workspace_history(
    ctx: ServiceContext,
    me: UUID,
    workspace_id: UUID,
    *,
    limit: int,
    offset: int,
    cursor: str | None,
) -> HistoryPage:
    """Ended calls of a workspace, latest first: three queries whatever the page size."""
    after = decode_keyset(cursor)
    await access_workspace(ctx, workspace_id, me)
    async with ctx.database.connection() as conn:
        total = await store.count_workspace_history(conn, workspace_id)
        rows = await store.workspace_history(
            conn, workspace_id, after=after, limit=limit, offset=offset
        )
        page = await _with_people(conn, rows)
    return page, total, _next(rows, limit)


async def list_my_history(
    ctx: ServiceContext, me: UUID, *, limit: int, offset: int, cursor: str | None
) -> HistoryPage:
    """Ended calls the caller took part in, latest first, in workspaces they still belong
    to (a call of a workspace they left stays in ``total`` but is not shown)."""
    after = decode_keyset(cursor)
    async with ctx.database.connection() as conn:
        total = await store.count_my_history(conn, me)
        rows = await store.my_history(conn, me, after=after, limit=limit, offset=offset)
    following = _next(rows, limit)
    visible: list[HistoryRow] = []
    allowed: dict[UUID, bool] = {}
    for row in rows:
        if row.workspace_id not in allowed:
            found = await ctx.membership.get(str(row.workspace_id), str(me))
            allowed[row.workspace_id] = found.is_member
        if allowed[row.workspace_id]:
            visible.append(row)
    async with ctx.database.connection() as conn:
        page = await _with_people(conn, visible)
    return page, total, following


async def _access_history(ctx: ServiceContext, me: UUID, history_id: UUID) -> HistoryRow:
    async with ctx.database.connection() as conn:
        row = await store.history_by_id(conn, history_id)
    if row is None:
        raise NotFound(HISTORY_NOT_FOUND)
    await access_workspace(ctx, row.workspace_id, me)
    return row


async def get_history(ctx: ServiceContext, me: UUID, history_id: UUID) -> CallHistoryOut:
    row = await _access_history(ctx, me, history_id)
    if row.ended_at is None:
        raise NotFound(HISTORY_NOT_FOUND)
    async with ctx.database.connection() as conn:
        return (await _with_people(conn, [row]))[0]


async def get_transcript(ctx: ServiceContext, me: UUID, history_id: UUID) -> TranscriptOut | None:
    """The call's transcript, or None when none was saved."""
    await _access_history(ctx, me, history_id)
    async with ctx.database.connection() as conn:
        row = await store.transcript_of_history(conn, history_id)
    return None if row is None else transcript_out(row)


async def do_save_transcript(
    ctx: ServiceContext, me: UUID, room_id: UUID, data: SaveTranscript
) -> TranscriptOut:
    """Replace the room's transcript: its creator and those who took part may."""
    if data.room_id is not None and data.room_id != room_id:
        raise ValidationFailed("roomId in the body differs from the room in the path")
    room, _ = await access_room(ctx, room_id, me)
    async with ctx.database.transaction() as tx:
        if room.creator_id != me and await store.participant(tx, room_id, me) is None:
            raise Forbidden("only the call's creator and participants can save its transcript")
        row = await store.save_transcript(tx, room_id, data.content)
    if row is None:  # cannot happen: every room has its history row
        raise NotFound(HISTORY_NOT_FOUND)
    return transcript_out(row)
