"""Comments on boards."""

from __future__ import annotations

from uuid import UUID

from wealist.board.rows import CommentRow
from wealist.board.store.sql import Q
from wealist.core.db import Conn


async def insert_comment(
    conn: Conn, comment_id: UUID, board_id: UUID, user: UUID, text: str
) -> None:
    params = {"id": comment_id, "board": board_id, "user": user, "content": text}
    await conn.execute(Q().insert_comment, params)


async def comment_view(conn: Conn, comment_id: UUID) -> CommentRow | None:
    return await conn.fetch_one(Q().comment_view, {"id": comment_id}, CommentRow)


async def comments_of_board(conn: Conn, board_id: UUID) -> list[CommentRow]:
    return await conn.fetch_all(Q().comments_of_board, {"board": board_id}, CommentRow)


async def comment_project(conn: Conn, comment_id: UUID) -> UUID | None:
    found: UUID | None = await conn.fetch_val(Q().comment_project, {"id": comment_id})
    return found


async def update_comment(conn: Conn, comment_id: UUID, text: str) -> None:
    await conn.execute(Q().update_comment, {"id": comment_id, "content": text})


async def delete_comment(conn: Conn, comment_id: UUID) -> bool:
    return await conn.execute(Q().delete_comment, {"id": comment_id}) == 1
