"""Board routes: boards, moves, participants, activity, task search."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from wealist.board.actions import attachments, boards, comments, participants, search
from wealist.board.actions.common import caller_id, parse_uuid
from wealist.board.api.params import Cursor, IfMatch, Limit, custom_fields, if_match
from wealist.board.schemas.attachments import AttachmentOut
from wealist.board.schemas.boards import (
    ActivityOut,
    AddedParticipants,
    AddParticipants,
    BoardOut,
    CreateBoard,
    MoveBoard,
    MoveOut,
    ParticipantOut,
    UpdateBoard,
)
from wealist.board.schemas.comments import BoardDetailOut
from wealist.core.deps import Caller, Ctx
from wealist.core.envelopes import Data, reply

# ruff: noqa: N803

EVENT_SEQ_HEADER = "X-Event-Seq"  # the live board's sequence number the list was read at


@post("/api/boards", status_code=201)
async def create_board(ctx: Ctx, caller: Caller, data: JSONBody[CreateBoard]) -> Data[BoardOut]:
    """A task in a project the caller is a member of."""
    return reply(await boards.do_create_board(ctx, caller_id(caller), data))


async def _list(
    ctx: Ctx, caller: Caller, projectId: str, customFields: str | None
) -> Response[Data[list[BoardOut]]]:
    project = parse_uuid(projectId, "projectId")
    found, seq = await boards.list_boards(
        ctx, caller_id(caller), project, custom_fields(customFields)
    )
    return Response(reply(found), headers={EVENT_SEQ_HEADER: str(seq)})


@get("/api/boards")
async def list_boards(
    ctx: Ctx, caller: Caller, projectId: FromQuery[str], customFields: FromQuery[str | None] = None
) -> Response[Data[list[BoardOut]]]:
    """The project's boards in column order, then rank; ``customFields`` filters by option
    values. ``X-Event-Seq``: resume the board socket from it (``?after=``)."""
    return await _list(ctx, caller, projectId, customFields)


@get("/api/boards/project/{projectId:str}")
async def project_boards(
    ctx: Ctx, caller: Caller, projectId: FromPath[str], customFields: FromQuery[str | None] = None
) -> Response[Data[list[BoardOut]]]:
    return await _list(ctx, caller, projectId, customFields)


@get("/api/boards/search")
async def search_boards(
    ctx: Ctx,
    caller: Caller,
    *,
    text: Annotated[str, QueryParameter(name="query", min_length=1, max_length=200)],
    workspaceId: FromQuery[str | None] = None,
    projectId: FromQuery[str | None] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response[Data[list[BoardOut]]]:
    """Tasks whose title or content contains ``query``, in a project or a workspace; newest
    change first. A full page carries ``X-Next-Cursor``: pass it back as ``cursor``."""
    found, following = await search.search_boards(
        ctx,
        caller_id(caller),
        query=text,
        workspace_id=parse_uuid(workspaceId, "workspaceId") if workspaceId else None,
        project_id=parse_uuid(projectId, "projectId") if projectId else None,
        cursor=cursor,
        limit=limit,
    )
    return Response(reply(found), headers={"X-Next-Cursor": following} if following else {})


@get("/api/boards/{boardId:str}")
async def get_board(ctx: Ctx, caller: Caller, boardId: FromPath[str]) -> Data[BoardDetailOut]:
    board = parse_uuid(boardId, "boardId")
    return reply(await comments.board_detail(ctx, caller_id(caller), board))


@put("/api/boards/{boardId:str}")
async def update_board(
    ctx: Ctx,
    caller: Caller,
    boardId: FromPath[str],
    data: JSONBody[UpdateBoard],
    ifMatch: IfMatch = None,
) -> Data[BoardOut]:
    """Change a board (project members); ``If-Match: <version>`` refuses a stale write (412)."""
    board = parse_uuid(boardId, "boardId")
    changed = await boards.do_update_board(ctx, caller_id(caller), board, data, if_match(ifMatch))
    return reply(changed)


@put("/api/boards/{boardId:str}/move")
async def move_board(
    ctx: Ctx,
    caller: Caller,
    boardId: FromPath[str],
    data: JSONBody[MoveBoard],
    ifMatch: IfMatch = None,
) -> Data[MoveOut]:
    """Into a column, optionally right after ``afterBoardId`` or before ``beforeBoardId``."""
    board = parse_uuid(boardId, "boardId")
    moved = await boards.do_move_board(ctx, caller_id(caller), board, data, if_match(ifMatch))
    return reply(moved)


@delete("/api/boards/{boardId:str}", status_code=200)
async def delete_board(ctx: Ctx, caller: Caller, boardId: FromPath[str]) -> Data[None]:
    """Delete a board (its author, or a project OWNER or ADMIN)."""
    await boards.do_delete_board(ctx, caller_id(caller), parse_uuid(boardId, "boardId"))
    return reply(None)


@get("/api/boards/{boardId:str}/attachments")
async def board_files(
    ctx: Ctx, caller: Caller, boardId: FromPath[str]
) -> Data[list[AttachmentOut]]:
    board = parse_uuid(boardId, "boardId")
    return reply(await attachments.list_files(ctx, caller_id(caller), "BOARD", board))


@get("/api/boards/{boardId:str}/activity")
async def board_activity(
    ctx: Ctx,
    caller: Caller,
    boardId: FromPath[str],
    limit: Limit = 50,
    cursor: Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1)] = None,  # an id: bigint
) -> Response[Data[list[ActivityOut]]]:
    """Who changed what, old -> new, newest first; ``X-Next-Cursor`` pages further back."""
    board = parse_uuid(boardId, "boardId")
    found, following = await search.board_activity(ctx, caller_id(caller), board, cursor, limit)
    headers = {"X-Next-Cursor": str(following)} if following else {}
    return Response(reply(found), headers=headers)


@post("/api/participants", status_code=201)
async def add_participants(
    ctx: Ctx, caller: Caller, data: JSONBody[AddParticipants]
) -> Data[AddedParticipants]:
    return reply(await participants.do_add_participants(ctx, caller_id(caller), data))


@get("/api/participants/board/{boardId:str}")
async def board_participants(
    ctx: Ctx, caller: Caller, boardId: FromPath[str]
) -> Data[list[ParticipantOut]]:
    board = parse_uuid(boardId, "boardId")
    return reply(await participants.list_participants(ctx, caller_id(caller), board))


@delete("/api/participants/board/{boardId:str}/user/{userId:str}", status_code=200)
async def remove_participant(
    ctx: Ctx, caller: Caller, boardId: FromPath[str], userId: FromPath[str]
) -> Data[None]:
    board, user = parse_uuid(boardId, "boardId"), parse_uuid(userId, "userId")
    await participants.do_remove_participant(ctx, caller_id(caller), board, user)
    return reply(None)


ROUTES: list[ControllerRouterHandler] = [
    create_board,
    list_boards,
    project_boards,
    search_boards,
    get_board,
    update_board,
    move_board,
    delete_board,
    board_files,
    board_activity,
    add_participants,
    board_participants,
    remove_participant,
]
