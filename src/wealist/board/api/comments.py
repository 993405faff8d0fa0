"""Comment routes."""

from __future__ import annotations

from litestar import delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.types import ControllerRouterHandler

from wealist.board.actions import attachments, comments
from wealist.board.actions.common import caller_id, parse_uuid
from wealist.board.schemas.attachments import AttachmentOut
from wealist.board.schemas.comments import CommentOut, CreateComment, UpdateComment
from wealist.core.deps import Caller, Ctx
from wealist.core.envelopes import Data, reply

# ruff: noqa: N803


@post("/api/comments", status_code=201)
async def create_comment(
    ctx: Ctx, caller: Caller, data: JSONBody[CreateComment]
) -> Data[CommentOut]:
    """A comment on a board of a project the caller is a member of; ``<@userId>`` in the
    text (or ``mentionedUserIds``) notifies those people."""
    return reply(await comments.do_create_comment(ctx, caller_id(caller), data))


@get("/api/comments")
async def list_comments(
    ctx: Ctx, caller: Caller, boardId: FromQuery[str]
) -> Data[list[CommentOut]]:
    board = parse_uuid(boardId, "boardId")
    return reply(await comments.list_comments(ctx, caller_id(caller), board))


@get("/api/comments/board/{boardId:str}")
async def board_comments(
    ctx: Ctx, caller: Caller, boardId: FromPath[str]
) -> Data[list[CommentOut]]:
    board = parse_uuid(boardId, "boardId")
    return reply(await comments.list_comments(ctx, caller_id(caller), board))


@put("/api/comments/{commentId:str}")
async def update_comment(
    ctx: Ctx, caller: Caller, commentId: FromPath[str], data: JSONBody[UpdateComment]
) -> Data[CommentOut]:
    """Its author, or the project's OWNER or an ADMIN, edits a comment."""
    comment = parse_uuid(commentId, "commentId")
    return reply(await comments.do_update_comment(ctx, caller_id(caller), comment, data))


@delete("/api/comments/{commentId:str}", status_code=200)
async def delete_comment(ctx: Ctx, caller: Caller, commentId: FromPath[str]) -> Data[None]:
    comment = parse_uuid(commentId, "commentId")
    await comments.do_delete_comment(ctx, caller_id(caller), comment)
    return reply(None)


@get("/api/comments/{commentId:str}/attachments")
async def comment_files(
    ctx: Ctx, caller: Caller, commentId: FromPath[str]
) -> Data[list[AttachmentOut]]:
    comment = parse_uuid(commentId, "commentId")
    return reply(await attachments.list_files(ctx, caller_id(caller), "COMMENT", comment))


ROUTES: list[ControllerRouterHandler] = [
    create_comment,
    list_comments,
    board_comments,
    update_comment,
    delete_comment,
    comment_files,
]
