"""Boards (tasks): create, list, read, move within and across columns, delete.

Every board write locks its project's row first (``lock_project``), so writes of one
project apply one at a time: concurrent moves never compute the same rank, and a
renumbering sees every card.
"""

from __future__ import annotations

import uuid
from uuid import UUID

import msgspec
from psycopg.types.json import Jsonb

from wealist.board import store
from wealist.board.actions.common import PROJECT_NOT_FOUND, access_project, access_workspace
from wealist.board.ranks import MAX_LENGTH, between, spread
from wealist.board.rows import BoardRow, SeatRow
from wealist.board.schemas import BoardOut, CreateBoard, MoveBoard, MoveOut
from wealist.core.context import ServiceContext
from wealist.core.db import Conn
from wealist.core.errors import Forbidden, NotFound, ValidationFailed

__all__ = ("do_create_board", "do_delete_board", "do_move_board", "get_board", "list_boards")

BOARD_NOT_FOUND = "board not found"
_AFTER_EVERY_RANK = "~"  # sorts after every rank key (they are alphanumeric)
_fields = msgspec.json.Decoder(dict[str, str]).decode


def board_out(row: BoardRow) -> BoardOut:
    return BoardOut(
        board_id=row.id,
        project_id=row.project_id,
        workspace_id=row.workspace_id,
        author_id=row.author_id,
        title=row.title,
        content=row.content,
        custom_fields=_fields(row.custom_fields),
        participant_ids=row.participant_ids,
        attachments=[],  # board attachments arrive with the attachment routes
        rank=row.rank,
        created_at=row.created_at,
        updated_at=row.updated_at,
        assignee_id=row.assignee_id,
        start_date=row.start_date,
        due_date=row.due_date,
    )


async def _lock_for_writing(ctx: ServiceContext, tx: Conn, project_id: UUID, me: UUID) -> SeatRow:
    """The locked project; 404 outside its workspace, 403 for non-members of the project."""
    seat = await store.lock_project(tx, project_id, me)
    if seat is None:
        raise NotFound(PROJECT_NOT_FOUND)
    try:
        await access_workspace(ctx, seat.workspace_id, me)
    except NotFound:
        raise NotFound(PROJECT_NOT_FOUND) from None
    if seat.role is None:
        raise Forbidden("only project members can change its boards")
    return seat


async def _check_fields(tx: Conn, project_id: UUID, fields: dict[str, str]) -> None:
    allowed = {(o.field_type, o.value) for o in await store.option_values(tx, project_id)}
    if any((kind, value) not in allowed for kind, value in fields.items()):
        raise ValidationFailed("Invalid custom field values")


async def _check_people(ctx: ServiceContext, workspace_id: UUID, people: list[UUID]) -> None:
    for person in dict.fromkeys(people):
        if not (await ctx.membership.get(str(workspace_id), str(person))).is_member:
            raise ValidationFailed(f"user {person} is not a member of this workspace")


async def _neighbour_rank(tx: Conn, project_id: UUID, board_id: UUID, field: str) -> str:
    rank = await store.board_rank(tx, project_id, board_id)
    if rank is None:
        raise ValidationFailed(f"{field} is not a board of this project")
    return rank


async def _place(  # where a card goes is described by this many things
    tx: Conn,
    project_id: UUID,
    board_id: UUID,
    *,
    group: tuple[str, str],
    before: UUID | None = None,
    after: UUID | None = None,
) -> str:
    """A free rank for ``board_id``: right after ``after``, right before ``before``, or at
    the end of its group; the project is renumbered first when keys got too long."""
    if board_id in (before, after):
        raise ValidationFailed("a board cannot be placed next to itself")
    if after is not None:
        low: str | None = await _neighbour_rank(tx, project_id, after, "afterBoardId")
        high = (
            await _neighbour_rank(tx, project_id, before, "beforeBoardId")
            if before is not None
            else await store.rank_after(tx, project_id, low, board_id)  # type: ignore[arg-type]
        )
    elif before is not None:
        high = await _neighbour_rank(tx, project_id, before, "beforeBoardId")
        low = await store.rank_before(tx, project_id, high, board_id)
    else:
        low = await store.last_rank_in_group(tx, project_id, group[0], group[1], board_id)
        if low is None:
            low = await store.rank_before(tx, project_id, _AFTER_EVERY_RANK, board_id)
            high = None
        else:
            high = await store.rank_after(tx, project_id, low, board_id)
    if low is not None and high is not None and low >= high:
        raise ValidationFailed("afterBoardId must come before beforeBoardId")
    key = between(low, high)
    if len(key) <= MAX_LENGTH:
        return key
    ids = await store.project_ranks(tx, project_id)
    await store.renumber(tx, ids, spread(len(ids)))
    return await _place(tx, project_id, board_id, group=group, before=before, after=after)


async def do_create_board(ctx: ServiceContext, me: UUID, new: CreateBoard) -> BoardOut:
    board_id = uuid.uuid4()
    async with ctx.database.transaction() as tx:
        seat = await _lock_for_writing(ctx, tx, new.project_id, me)
        await _check_fields(tx, new.project_id, new.custom_fields)
        assignee = new.assignee_id or me  # the author, unless someone else is named
        await _check_people(ctx, seat.workspace_id, [assignee, *new.participants])
        stage = ("stage", new.custom_fields.get("stage", ""))
        rank = await _place(tx, new.project_id, board_id, group=stage)
        await store.insert_board(
            tx,
            board_id=board_id,
            project_id=new.project_id,
            author=me,
            assignee=assignee,
            title=new.title,
            content=new.content,
            custom_fields=Jsonb(new.custom_fields),
            rank=rank,
            start=new.start_date,
            due=new.due_date,
        )
        if new.participants:
            await store.add_participants(tx, board_id, new.participants)
        row = await store.board_view(tx, board_id)
    assert row is not None  # inserted in this transaction
    return board_out(row)


async def list_boards(
    ctx: ServiceContext, me: UUID, project_id: UUID, filter_: dict[str, str]
) -> list[BoardOut]:
    """The project's boards, in column order then rank (two queries plus the cached
    membership check, however many boards)."""
    async with ctx.database.connection() as conn:
        await access_project(ctx, conn, project_id, me)
        rows = await store.list_boards(conn, project_id, Jsonb(filter_))
    return [board_out(r) for r in rows]


async def _board(
    ctx: ServiceContext, conn: Conn, me: UUID, board_id: UUID
) -> tuple[BoardRow, SeatRow]:
    row = await store.board_view(conn, board_id)
    if row is None:
        raise NotFound(BOARD_NOT_FOUND)
    try:
        seat = await access_project(ctx, conn, row.project_id, me)
    except NotFound:
        raise NotFound(BOARD_NOT_FOUND) from None
    return row, seat


async def get_board(ctx: ServiceContext, me: UUID, board_id: UUID) -> BoardOut:
    async with ctx.database.connection() as conn:
        return board_out((await _board(ctx, conn, me, board_id))[0])


async def do_move_board(ctx: ServiceContext, me: UUID, board_id: UUID, move: MoveBoard) -> MoveOut:
    async with ctx.database.transaction() as tx:
        await _lock_for_writing(ctx, tx, move.project_id, me)
        if await store.board_rank(tx, move.project_id, board_id) is None:
            raise NotFound(BOARD_NOT_FOUND)
        await _check_fields(tx, move.project_id, {move.group_by_field_name: move.new_field_value})
        rank = await _place(
            tx,
            move.project_id,
            board_id,
            group=(move.group_by_field_name, move.new_field_value),
            before=move.before_board_id,
            after=move.after_board_id,
        )
        await store.move_board(
            tx,
            move.project_id,
            board_id,
            field=move.group_by_field_name,
            value=move.new_field_value,
            rank=rank,
        )
    return MoveOut(
        board_id=board_id, new_field_value=move.new_field_value, message="Board moved successfully"
    )


async def do_delete_board(ctx: ServiceContext, me: UUID, board_id: UUID) -> None:
    """The author, or the project's OWNER or an ADMIN, deletes a board."""
    async with ctx.database.transaction() as tx:
        row, _ = await _board(ctx, tx, me, board_id)
        seat = await _lock_for_writing(ctx, tx, row.project_id, me)
        if row.author_id != me and seat.role not in {"OWNER", "ADMIN"}:
            raise Forbidden("only the author or a project admin can delete this board")
        await store.delete_board(tx, board_id)
