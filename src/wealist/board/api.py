"""HTTP routes of the board service (thin: parse, call one action, shape the reply).

Every reply is ``{data, requestId}`` (contract 5), errors ``{error, requestId}``.
"""

from __future__ import annotations

import msgspec
from litestar import delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.types import ControllerRouterHandler

from wealist.board.actions import boards
from wealist.board.actions import projects as actions
from wealist.board.actions.common import caller_id, parse_uuid
from wealist.board.schemas import (
    BoardOut,
    CreateBoard,
    CreateProject,
    MessageOut,
    MoveBoard,
    MoveOut,
    ProjectList,
    ProjectMemberOut,
    ProjectOut,
    UpdateProject,
)
from wealist.core.deps import Caller, Ctx
from wealist.core.envelopes import Data, reply
from wealist.core.errors import ValidationFailed

__all__ = ("ROUTES",)

# Path parameters keep the contract's camelCase names.
# ruff: noqa: N803


@post("/api/projects", status_code=201)
async def create_project(
    ctx: Ctx, caller: Caller, data: JSONBody[CreateProject]
) -> Data[ProjectOut]:
    """A project in one of the caller's workspaces; they become its OWNER."""
    return reply(await actions.do_create_project(ctx, caller_id(caller), data))


@get("/api/projects")
async def list_projects(ctx: Ctx, caller: Caller, workspaceId: FromQuery[str]) -> Data[ProjectList]:
    workspace = parse_uuid(workspaceId, "workspaceId")
    return reply(await actions.list_projects(ctx, caller_id(caller), workspace))


@get("/api/projects/workspace/{workspaceId:str}")
async def workspace_projects(
    ctx: Ctx, caller: Caller, workspaceId: FromPath[str]
) -> Data[list[ProjectOut]]:
    workspace = parse_uuid(workspaceId, "workspaceId")
    listed = await actions.list_projects(ctx, caller_id(caller), workspace)
    return reply(listed.projects)


@get("/api/projects/workspace/{workspaceId:str}/default")
async def default_project(ctx: Ctx, caller: Caller, workspaceId: FromPath[str]) -> Data[ProjectOut]:
    workspace = parse_uuid(workspaceId, "workspaceId")
    return reply(await actions.get_default_project(ctx, caller_id(caller), workspace))


@get("/api/projects/{projectId:str}")
async def get_project(ctx: Ctx, caller: Caller, projectId: FromPath[str]) -> Data[ProjectOut]:
    project = parse_uuid(projectId, "projectId")
    return reply(await actions.get_project(ctx, caller_id(caller), project))


@put("/api/projects/{projectId:str}")
async def update_project(
    ctx: Ctx, caller: Caller, projectId: FromPath[str], data: JSONBody[UpdateProject]
) -> Data[ProjectOut]:
    """Change a project (its OWNER only)."""
    project = parse_uuid(projectId, "projectId")
    return reply(await actions.do_update_project(ctx, caller_id(caller), project, data))


@delete("/api/projects/{projectId:str}", status_code=200)
async def delete_project(ctx: Ctx, caller: Caller, projectId: FromPath[str]) -> Data[MessageOut]:
    """Delete a project and everything in it (its OWNER only)."""
    await actions.do_delete_project(ctx, caller_id(caller), parse_uuid(projectId, "projectId"))
    return reply(MessageOut("project deleted"))


@get("/api/projects/{projectId:str}/members")
async def project_members(
    ctx: Ctx, caller: Caller, projectId: FromPath[str]
) -> Data[list[ProjectMemberOut]]:
    project = parse_uuid(projectId, "projectId")
    return reply(await actions.list_project_members(ctx, caller_id(caller), project))


# --- boards -----------------------------------------------------------------------------

_FILTER = msgspec.json.Decoder(dict[str, str])


def _custom_fields(raw: str | None) -> dict[str, str]:
    """The ``customFields`` filter: a JSON object of field type -> option value."""
    if not raw:
        return {}
    try:
        return _FILTER.decode(raw)
    except msgspec.DecodeError:
        raise ValidationFailed("customFields must be a JSON object of strings") from None


@post("/api/boards", status_code=201)
async def create_board(ctx: Ctx, caller: Caller, data: JSONBody[CreateBoard]) -> Data[BoardOut]:
    """A task in a project the caller is a member of."""
    return reply(await boards.do_create_board(ctx, caller_id(caller), data))


@get("/api/boards")
async def list_boards(
    ctx: Ctx,
    caller: Caller,
    projectId: FromQuery[str],
    customFields: FromQuery[str | None] = None,
) -> Data[list[BoardOut]]:
    """The project's boards in column order, then rank; ``customFields`` filters."""
    project = parse_uuid(projectId, "projectId")
    found = await boards.list_boards(ctx, caller_id(caller), project, _custom_fields(customFields))
    return reply(found)


@get("/api/boards/project/{projectId:str}")
async def project_boards(
    ctx: Ctx,
    caller: Caller,
    projectId: FromPath[str],
    customFields: FromQuery[str | None] = None,
) -> Data[list[BoardOut]]:
    project = parse_uuid(projectId, "projectId")
    found = await boards.list_boards(ctx, caller_id(caller), project, _custom_fields(customFields))
    return reply(found)


@get("/api/boards/{boardId:str}")
async def get_board(ctx: Ctx, caller: Caller, boardId: FromPath[str]) -> Data[BoardOut]:
    board = parse_uuid(boardId, "boardId")
    return reply(await boards.get_board(ctx, caller_id(caller), board))


@put("/api/boards/{boardId:str}/move")
async def move_board(
    ctx: Ctx, caller: Caller, boardId: FromPath[str], data: JSONBody[MoveBoard]
) -> Data[MoveOut]:
    """Into a column, optionally right after ``afterBoardId`` or before ``beforeBoardId``."""
    board = parse_uuid(boardId, "boardId")
    return reply(await boards.do_move_board(ctx, caller_id(caller), board, data))


@delete("/api/boards/{boardId:str}", status_code=200)
async def delete_board(ctx: Ctx, caller: Caller, boardId: FromPath[str]) -> Data[None]:
    """Delete a board (its author, or a project OWNER or ADMIN)."""
    await boards.do_delete_board(ctx, caller_id(caller), parse_uuid(boardId, "boardId"))
    return reply(None)


ROUTES: list[ControllerRouterHandler] = [
    create_project,
    list_projects,
    workspace_projects,
    default_project,
    get_project,
    update_project,
    delete_project,
    project_members,
    create_board,
    list_boards,
    project_boards,
    get_board,
    move_board,
    delete_board,
]
