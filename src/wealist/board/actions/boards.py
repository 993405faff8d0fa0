"""Boards (tasks): create, read, change, move within and across columns, delete.

Every board write locks its project's row first (``lock_project``), so a project's writes
apply one at a time: concurrent moves never compute the same rank, a renumbering sees
every card, and live events get gapless sequence numbers in commit order. Each write also
records its activity, emits its live event and requests its notifications, all in the
same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

import msgspec

from wealist.board import store
from wealist.board.actions import live
from wealist.board.actions.attachments import attach, purge_soon
from wealist.board.actions.common import (
    ADMINS,
    PROJECT_NOT_FOUND,
    access_project,
    access_workspace,
    file_refs,
    lock_project,
)
from wealist.board.actions.notify import board_notices
from wealist.board.ranks import MAX_LENGTH, between, spread
from wealist.board.rows import BoardRow, SeatRow
from wealist.board.schemas.boards import BoardOut, CreateBoard, MoveBoard, MoveOut, UpdateBoard
from wealist.core.context import ServiceContext
from wealist.core.db import Conn, Tx
from wealist.core.errors import AppError, Forbidden, NotFound, ValidationFailed

__all__ = (
    "BOARD_NOT_FOUND",
    "board_out",
    "check_people",
    "do_create_board",
    "do_delete_board",
    "do_move_board",
    "do_update_board",
    "get_board_row",
    "list_boards",
    "lock_board",
    "record_write",
)

BOARD_NOT_FOUND = "board not found"
_AFTER_EVERY_RANK = "~"  # sorts after every rank key (they are alphanumeric)
_fields = msgspec.json.Decoder(dict[str, str]).decode

Changes = list[dict[str, str | None]]


class StaleVersionError(AppError):
    status = 412
    code = "PRECONDITION_FAILED"
    default_message = "the board changed since you read it; reload it and retry"


def board_out(ctx: ServiceContext, row: BoardRow) -> BoardOut:
    return BoardOut(
        board_id=row.id,
        project_id=row.project_id,
        workspace_id=row.workspace_id,
        author_id=row.author_id,
        title=row.title,
        content=row.content,
        custom_fields=_fields(row.custom_fields),
        participant_ids=row.participant_ids,
        attachments=file_refs(ctx, row.attachments),
        rank=row.rank,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        assignee_id=row.assignee_id,
        start_date=row.start_date,
        due_date=row.due_date,
    )


async def _check_fields(tx: Conn, project_id: UUID, fields: dict[str, str]) -> None:
    allowed = {(o.field_type, o.value) for o in await store.options.option_values(tx, project_id)}
    if any((kind, value) not in allowed for kind, value in fields.items()):
        raise ValidationFailed("Invalid custom field values")


async def check_people(ctx: ServiceContext, workspace_id: UUID, people: list[UUID | None]) -> None:
    """400 unless everyone named is a member of the workspace (the cache answers)."""
    for person in dict.fromkeys(p for p in people if p is not None):
        if not (await ctx.membership.get(str(workspace_id), str(person))).is_member:
            raise ValidationFailed(f"user {person} is not a member of this workspace")


async def _neighbour_rank(tx: Conn, project_id: UUID, board_id: UUID, field: str) -> str:
    rank = await store.boards.board_rank(tx, project_id, board_id)
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
    the end of its group; the project is renumbered first when keys got too long.

    With both neighbours the card goes right after ``after`` in the project's order: the
    two are neighbours in a column, and cards of other columns may sit between them (the
    midpoint of their keys could be one of those cards' keys)."""
    if board_id in (before, after):
        raise ValidationFailed("a board cannot be placed next to itself")
    ranks = store.boards
    if after is not None:
        low: str | None = await _neighbour_rank(tx, project_id, after, "afterBoardId")
        if before is not None:
            limit = await _neighbour_rank(tx, project_id, before, "beforeBoardId")
            if low is not None and low >= limit:
                raise ValidationFailed("afterBoardId must come before beforeBoardId")
        high = await ranks.rank_after(tx, project_id, low, board_id)  # type: ignore[arg-type]
    elif before is not None:
        high = await _neighbour_rank(tx, project_id, before, "beforeBoardId")
        low = await ranks.rank_before(tx, project_id, high, board_id)
    else:
        low = await ranks.last_rank_in_group(tx, project_id, group[0], group[1], board_id)
        if low is None:
            low = await ranks.rank_before(tx, project_id, _AFTER_EVERY_RANK, board_id)
            high = None
        else:
            high = await ranks.rank_after(tx, project_id, low, board_id)
    if low is not None and high is not None and low >= high:
        raise ValidationFailed("afterBoardId must come before beforeBoardId")
    key = between(low, high)
    if len(key) <= MAX_LENGTH:
        return key
    ids = await ranks.project_ranks(tx, project_id)
    await ranks.renumber(tx, ids, spread(len(ids)))
    return await _place(tx, project_id, board_id, group=group, before=before, after=after)


async def record_write(
    ctx: ServiceContext,
    tx: Tx,
    me: UUID,
    seat: SeatRow,
    before: BoardRow | None,
    *,
    kind: str = live.BOARD_UPDATED,
    extra: Changes | None = None,
    payload: Callable[[BoardOut], object] | None = None,
    board_id: UUID | None = None,
) -> BoardRow:
    """What every board write ends with: the board as it is now, its activity (what
    changed, old -> new), its live event and its notifications."""
    board_id = board_id or (before.id if before is not None else None)
    assert board_id is not None
    row = await store.boards.board_view(tx, board_id)
    assert row is not None  # written in this transaction
    changes = [*(diff(before, row) if before is not None else []), *(extra or [])]
    if before is None or changes:
        action = (
            "created" if before is None else ("moved" if kind == live.BOARD_MOVED else "updated")
        )
        await store.boards.insert_activity(tx, board_id, me, action, changes)
    shown = board_out(ctx, row)
    event = payload(shown) if payload is not None else shown
    await live.emit(ctx, tx, seat.id, kind, event, actor=me, board_id=board_id)
    await board_notices(me, before, row, seat.name, changes).send(tx)
    return row


async def do_create_board(ctx: ServiceContext, me: UUID, new: CreateBoard) -> BoardOut:
    board_id = uuid.uuid4()
    async with ctx.database.transaction() as tx:
        seat = await lock_project(ctx, tx, new.project_id, me)
        await _check_fields(tx, new.project_id, new.custom_fields)
        assignee = new.assignee_id or me  # the author, unless someone else is named
        await check_people(ctx, seat.workspace_id, [assignee, *new.participants])
        stage = ("stage", new.custom_fields.get("stage", ""))
        await store.boards.insert_board(
            tx,
            board_id=board_id,
            project_id=new.project_id,
            author=me,
            assignee=assignee,
            title=new.title,
            content=new.content,
            custom_fields=new.custom_fields,
            rank=await _place(tx, new.project_id, board_id, group=stage),
            start=new.start_date,
            due=new.due_date,
        )
        if new.participants:
            await store.boards.add_participants(tx, board_id, new.participants)
        await attach(
            ctx,
            tx,
            me,
            new.attachment_ids,
            entity_type="BOARD",
            entity_id=board_id,
            project_id=seat.id,
            workspace_id=seat.workspace_id,
            board_id=board_id,
        )
        row = await record_write(
            ctx, tx, me, seat, None, kind=live.BOARD_CREATED, board_id=board_id
        )
    return board_out(ctx, row)


async def list_boards(
    ctx: ServiceContext, me: UUID, project_id: UUID, filter_: dict[str, str]
) -> tuple[list[BoardOut], int]:
    """The project's boards in column order then rank, and the live board's sequence
    number read in the same snapshot (a socket resuming from it misses nothing). One
    query, however many boards, plus the cached membership check."""
    async with ctx.database.connection() as conn:
        rows = await store.boards.project_boards_for(conn, project_id, me, filter_)
    if not rows:
        raise NotFound(PROJECT_NOT_FOUND)
    try:
        await access_workspace(ctx, rows[0].seat_workspace_id, me)
    except NotFound:
        raise NotFound(PROJECT_NOT_FOUND) from None
    return [board_out(ctx, r) for r in rows if r.has_board], rows[0].seat_seq


async def get_board_row(
    ctx: ServiceContext, conn: Conn, me: UUID, board_id: UUID
) -> tuple[BoardRow, SeatRow]:
    """A board the caller may read (a member of its workspace), with their project seat."""
    row = await store.boards.board_view(conn, board_id)
    if row is None:
        raise NotFound(BOARD_NOT_FOUND)
    try:
        seat = await access_project(ctx, conn, row.project_id, me)
    except NotFound:
        raise NotFound(BOARD_NOT_FOUND) from None
    return row, seat


async def lock_board(
    ctx: ServiceContext, tx: Tx, me: UUID, board_id: UUID, if_match: int | None = None
) -> tuple[BoardRow, SeatRow]:
    """A board to change: its project locked, the caller a project member (403) and the
    board at version ``if_match`` when given (412)."""
    project_id = await store.boards.board_project(tx, board_id)
    if project_id is None:
        raise NotFound(BOARD_NOT_FOUND)
    try:
        seat = await lock_project(ctx, tx, project_id, me)
    except NotFound:
        raise NotFound(BOARD_NOT_FOUND) from None
    row = await store.boards.board_view(tx, board_id)
    if row is None or row.project_id != project_id:  # deleted or moved before the lock
        raise NotFound(BOARD_NOT_FOUND)
    if if_match is not None and row.version != if_match:
        raise StaleVersionError
    return row, seat


def _day(value: datetime | None) -> str | None:
    return None if value is None else value.date().isoformat()


def _ids(values: list[UUID]) -> str:
    return ",".join(str(v) for v in values)


def diff(before: BoardRow, after: BoardRow) -> Changes:
    """What changed, old -> new, as the activity log and BOARD_UPDATED show it."""
    changes: Changes = []

    def note(field: str, old: str | None, new: str | None) -> None:
        if old != new:
            changes.append({"field": field, "oldValue": old, "newValue": new})

    note("title", before.title, after.title)
    if before.content != after.content:
        changes.append({"field": "content", "oldValue": None, "newValue": None})
    old_fields, new_fields = _fields(before.custom_fields), _fields(after.custom_fields)
    for field in sorted(set(old_fields) | set(new_fields)):
        note(field, old_fields.get(field), new_fields.get(field))
    note("assignee", _str(before.assignee_id), _str(after.assignee_id))
    note("startDate", _day(before.start_date), _day(after.start_date))
    note("dueDate", _day(before.due_date), _day(after.due_date))
    if set(before.participant_ids) != set(after.participant_ids):
        note("participants", _ids(before.participant_ids), _ids(after.participant_ids))
    return changes


def _str(value: UUID | None) -> str | None:
    return None if value is None else str(value)


async def do_update_board(
    ctx: ServiceContext, me: UUID, board_id: UUID, change: UpdateBoard, if_match: int | None
) -> BoardOut:
    async with ctx.database.transaction() as tx:
        before, seat = await lock_board(ctx, tx, me, board_id, if_match)
        fields = _fields(before.custom_fields)
        if change.custom_fields is not None:
            await _check_fields(tx, seat.id, change.custom_fields)
            fields = {**fields, **change.custom_fields}
        assignee = before.assignee_id if change.assignee_id is msgspec.UNSET else change.assignee_id
        start = before.start_date if change.start_date is msgspec.UNSET else change.start_date
        due = before.due_date if change.due_date is msgspec.UNSET else change.due_date
        if start is not None and due is not None and start > due:
            raise ValidationFailed("startDate must not be after dueDate")
        await check_people(ctx, seat.workspace_id, [assignee, *(change.participants or [])])
        await store.boards.update_board(
            tx,
            board_id,
            title=change.title if change.title is not None else before.title,
            content=change.content if change.content is not None else before.content,
            custom_fields=fields,
            assignee=assignee,
            start=start,
            due=due,
        )
        if change.participants is not None:
            await store.boards.replace_participants(tx, board_id, change.participants)
        await attach(
            ctx,
            tx,
            me,
            change.attachment_ids,
            entity_type="BOARD",
            entity_id=board_id,
            project_id=seat.id,
            workspace_id=seat.workspace_id,
            board_id=board_id,
        )
        extra: Changes = (
            [{"field": "attachments", "oldValue": None, "newValue": None}]
            if change.attachment_ids
            else []
        )
        row = await record_write(ctx, tx, me, seat, before, extra=extra)
    return board_out(ctx, row)


class MovedPayload(msgspec.Struct, rename="camel", kw_only=True):
    """``BOARD_MOVED``'s payload: the contract's ``from``/``to`` plus the moved board."""

    from_: str = msgspec.field(name="from")
    to: str
    field: str
    board: BoardOut


async def do_move_board(
    ctx: ServiceContext, me: UUID, board_id: UUID, move: MoveBoard, if_match: int | None
) -> MoveOut:
    async with ctx.database.transaction() as tx:
        before, seat = await lock_board(ctx, tx, me, board_id, if_match)
        if before.project_id != move.project_id:
            raise NotFound(BOARD_NOT_FOUND)
        field, value = move.group_by_field_name, move.new_field_value
        await _check_fields(tx, seat.id, {field: value})
        rank = await _place(
            tx,
            seat.id,
            board_id,
            group=(field, value),
            before=move.before_board_id,
            after=move.after_board_id,
        )
        await store.boards.move_board(tx, seat.id, board_id, field=field, value=value, rank=rank)
        old_value = _fields(before.custom_fields).get(field, "")
        row = await record_write(
            ctx,
            tx,
            me,
            seat,
            before,
            kind=live.BOARD_MOVED,
            payload=lambda board: MovedPayload(from_=old_value, to=value, field=field, board=board),
        )
    return MoveOut(
        board_id=board_id,
        new_field_value=value,
        message="Board moved successfully",
        rank=row.rank,
        version=row.version,
    )


async def do_delete_board(ctx: ServiceContext, me: UUID, board_id: UUID) -> None:
    """The author, or the project's OWNER or an ADMIN, deletes a board (and its files)."""
    async with ctx.database.transaction() as tx:
        row, seat = await lock_board(ctx, tx, me, board_id)
        if row.author_id != me and seat.role not in ADMINS:
            raise Forbidden("only the author or a project admin can delete this board")
        await live.emit(
            ctx, tx, seat.id, live.BOARD_DELETED, {"boardId": board_id}, actor=me, board_id=board_id
        )
        await store.attachments.discard(tx, board=board_id)
        await store.boards.delete_board(tx, board_id)
        tx.on_commit(lambda: purge_soon(ctx))
