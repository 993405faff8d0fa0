"""Comments on boards: write (project members), edit and delete (the author or a project
admin), read (workspace members); mentions notify the people named."""

from __future__ import annotations

import re
import uuid
from uuid import UUID

import msgspec

from wealist.board import store
from wealist.board.actions import live
from wealist.board.actions.attachments import attach, purge_soon
from wealist.board.actions.boards import board_out, check_people, get_board_row, lock_board
from wealist.board.actions.common import ADMINS, file_refs, lock_project
from wealist.board.actions.notify import Notices, comment_preview, involved
from wealist.board.actions.participants import participant_out
from wealist.board.rows import CommentRow, SeatRow
from wealist.board.schemas.comments import BoardDetailOut, CommentOut, CreateComment, UpdateComment
from wealist.core.context import ServiceContext
from wealist.core.db import Tx
from wealist.core.errors import Forbidden, NotFound

__all__ = (
    "board_detail",
    "comment_out",
    "do_create_comment",
    "do_delete_comment",
    "do_update_comment",
    "list_comments",
)

COMMENT_NOT_FOUND = "comment not found"
_MENTION = re.compile(
    r"<@([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})>"
)


def comment_out(ctx: ServiceContext, row: CommentRow) -> CommentOut:
    return CommentOut(
        comment_id=row.id,
        board_id=row.board_id,
        user_id=row.user_id,
        content=row.content,
        attachments=file_refs(ctx, row.attachments),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def mentioned(text: str, named: list[UUID]) -> list[UUID]:
    """Who a comment mentions: ``mentionedUserIds`` and ``<@userId>`` tokens in its text."""
    return list(dict.fromkeys([*named, *(UUID(m) for m in _MENTION.findall(text))]))


async def do_create_comment(ctx: ServiceContext, me: UUID, new: CreateComment) -> CommentOut:
    comment_id = uuid.uuid4()
    async with ctx.database.transaction() as tx:
        board, seat = await lock_board(ctx, tx, me, new.board_id)
        people = mentioned(new.content, new.mentioned_user_ids)
        await check_people(ctx, seat.workspace_id, list(people))
        await store.comments.insert_comment(tx, comment_id, board.id, me, new.content)
        await attach(
            ctx,
            tx,
            me,
            new.attachment_ids,
            entity_type="COMMENT",
            entity_id=comment_id,
            project_id=seat.id,
            workspace_id=seat.workspace_id,
            board_id=board.id,
        )
        row = await _emit(ctx, tx, me, seat, comment_id, kind=live.COMMENT_CREATED)
        notices = Notices(me, board, seat.name)
        about = {"commentId": str(comment_id), "commentPreview": comment_preview(new.content)}
        notices.add("COMMENT_MENTIONED", people, **about)
        notices.add("BOARD_COMMENT_ADDED", involved(board), **about)
        await notices.send(tx)
    return comment_out(ctx, row)


async def _emit(
    ctx: ServiceContext, tx: Tx, me: UUID, seat: SeatRow, comment_id: UUID, *, kind: str
) -> CommentRow:
    row = await store.comments.comment_view(tx, comment_id)
    assert row is not None  # written in this transaction
    await live.emit(ctx, tx, seat.id, kind, comment_out(ctx, row), actor=me, board_id=row.board_id)
    return row


async def list_comments(ctx: ServiceContext, me: UUID, board_id: UUID) -> list[CommentOut]:
    """A board's comments, oldest first (two queries however many)."""
    async with ctx.database.connection() as conn:
        await get_board_row(ctx, conn, me, board_id)
        rows = await store.comments.comments_of_board(conn, board_id)
    return [comment_out(ctx, r) for r in rows]


async def _lock_comment(
    ctx: ServiceContext, tx: Tx, me: UUID, comment_id: UUID
) -> tuple[CommentRow, SeatRow]:
    """A comment the caller may change: its author's, or any to a project OWNER/ADMIN."""
    project_id = await store.comments.comment_project(tx, comment_id)
    if project_id is None:
        raise NotFound(COMMENT_NOT_FOUND)
    try:
        seat = await lock_project(ctx, tx, project_id, me, roles=None)
    except NotFound:
        raise NotFound(COMMENT_NOT_FOUND) from None
    row = await store.comments.comment_view(tx, comment_id)
    if row is None:
        raise NotFound(COMMENT_NOT_FOUND)
    if row.user_id != me and seat.role not in ADMINS:
        raise Forbidden("only the author or a project admin can change this comment")
    return row, seat


async def do_update_comment(
    ctx: ServiceContext, me: UUID, comment_id: UUID, change: UpdateComment
) -> CommentOut:
    async with ctx.database.transaction() as tx:
        row, seat = await _lock_comment(ctx, tx, me, comment_id)
        await store.comments.update_comment(tx, comment_id, change.content)
        await attach(
            ctx,
            tx,
            me,
            change.attachment_ids,
            entity_type="COMMENT",
            entity_id=comment_id,
            project_id=seat.id,
            workspace_id=seat.workspace_id,
            board_id=row.board_id,
        )
        updated = await _emit(ctx, tx, me, seat, comment_id, kind=live.COMMENT_UPDATED)
    return comment_out(ctx, updated)


async def do_delete_comment(ctx: ServiceContext, me: UUID, comment_id: UUID) -> None:
    async with ctx.database.transaction() as tx:
        row, seat = await _lock_comment(ctx, tx, me, comment_id)
        payload = {"commentId": comment_id, "boardId": row.board_id}
        await live.emit(
            ctx, tx, seat.id, live.COMMENT_DELETED, payload, actor=me, board_id=row.board_id
        )
        await store.attachments.discard(tx, comment=comment_id)
        await store.comments.delete_comment(tx, comment_id)
        tx.on_commit(lambda: purge_soon(ctx))


async def board_detail(ctx: ServiceContext, me: UUID, board_id: UUID) -> BoardDetailOut:
    """``GET /api/boards/{id}``: the board with its participants and comments (four
    queries however many of either)."""
    async with ctx.database.connection() as conn:
        row, _ = await get_board_row(ctx, conn, me, board_id)
        participants = await store.boards.participants_of_board(conn, board_id)
        comments = await store.comments.comments_of_board(conn, board_id)
    shown = board_out(ctx, row)
    return BoardDetailOut(
        **msgspec.structs.asdict(shown),
        participants=[participant_out(p) for p in participants],
        comments=[comment_out(ctx, c) for c in comments],
    )
