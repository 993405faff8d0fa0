"""Task search across a project or a workspace, and a board's activity history."""

from __future__ import annotations

from uuid import UUID

import msgspec

from wealist.board import store
from wealist.board.actions.boards import board_out, get_board_row
from wealist.board.actions.common import access_project, access_workspace
from wealist.board.actions.projects import like_pattern
from wealist.board.schemas.boards import ActivityOut, BoardOut, Change
from wealist.core.context import ServiceContext
from wealist.core.errors import ValidationFailed
from wealist.core.ids import decode_cursor, encode_cursor

__all__ = ("board_activity", "search_boards")

_changes = msgspec.json.Decoder(list[Change]).decode


async def search_boards(
    ctx: ServiceContext,
    me: UUID,
    *,
    query: str,
    workspace_id: UUID | None,
    project_id: UUID | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[BoardOut], str | None]:
    """Boards whose title or content contains ``query`` (any script, any position), in a
    project or in every project of a workspace the caller reads; newest change first.
    Returns the page and the cursor of the next one."""
    text = query.strip()
    if not text:
        raise ValidationFailed("query must not be empty")
    async with ctx.database.connection() as conn:
        if project_id is not None:
            workspace_id = (await access_project(ctx, conn, project_id, me)).workspace_id
        elif workspace_id is not None:
            await access_workspace(ctx, workspace_id, me)
        else:
            raise ValidationFailed("give a workspaceId or a projectId")
        rows = await store.boards.search_boards(
            conn,
            workspace_id,
            project_id,
            like_pattern(text),
            before=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
        )
    more = len(rows) > limit
    rows = rows[:limit]
    following = encode_cursor(rows[-1].updated_at, rows[-1].id) if more else None
    return [board_out(ctx, r) for r in rows], following


async def board_activity(
    ctx: ServiceContext, me: UUID, board_id: UUID, before: int | None, limit: int
) -> tuple[list[ActivityOut], int | None]:
    """Who changed what on a board, newest first; keyset by activity id."""
    async with ctx.database.connection() as conn:
        await get_board_row(ctx, conn, me, board_id)
        rows = await store.boards.activity_of_board(conn, board_id, before, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    shown = [
        ActivityOut(
            activity_id=r.id,
            board_id=r.board_id,
            actor_id=r.actor_id,
            action=r.action,
            changes=_changes(r.changes),
            created_at=r.created_at,
        )
        for r in rows
    ]
    return shown, rows[-1].id if more else None
