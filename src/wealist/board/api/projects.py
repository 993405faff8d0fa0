"""Project routes: projects, init-settings, members, join requests, files, online users."""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from wealist.board.actions import attachments, live, members
from wealist.board.actions import projects as actions
from wealist.board.actions.common import caller_id, parse_uuid
from wealist.board.schemas.attachments import AttachmentOut
from wealist.board.schemas.common import MessageOut
from wealist.board.schemas.projects import (
    ChangeMemberRole,
    CreateJoinRequest,
    CreateProject,
    DecideJoinRequest,
    InitSettings,
    JoinRequestOut,
    OnlineUsers,
    ProjectList,
    ProjectMemberOut,
    ProjectOut,
    RequestStatus,
    UpdateProject,
)
from wealist.core.deps import Caller, Ctx
from wealist.core.envelopes import Data, reply

# Path and query parameters keep the contract's camelCase names.
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


@get("/api/projects/search")
async def search_projects(
    ctx: Ctx,
    caller: Caller,
    *,
    workspaceId: FromQuery[str],
    text: Annotated[str, QueryParameter(name="query", min_length=1, max_length=200)],
    page: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1,
    limit: Annotated[int, QueryParameter(ge=1, le=100)] = 10,
) -> Data[ProjectList]:
    """Projects whose name or description contains ``query``; offset pages."""
    workspace = parse_uuid(workspaceId, "workspaceId")
    found = await actions.search_projects(
        ctx, caller_id(caller), workspace, text, page=page, limit=limit
    )
    return reply(found)


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
    """Change a project (its OWNER only); ``attachmentIds`` adds files."""
    project = parse_uuid(projectId, "projectId")
    return reply(await actions.do_update_project(ctx, caller_id(caller), project, data))


@delete("/api/projects/{projectId:str}", status_code=200)
async def delete_project(ctx: Ctx, caller: Caller, projectId: FromPath[str]) -> Data[MessageOut]:
    """Delete a project and everything in it (its OWNER only)."""
    await actions.do_delete_project(ctx, caller_id(caller), parse_uuid(projectId, "projectId"))
    return reply(MessageOut("project deleted"))


@get("/api/projects/{projectId:str}/init-settings")
async def init_settings(ctx: Ctx, caller: Caller, projectId: FromPath[str]) -> Data[InitSettings]:
    """What the kanban screen loads first: the project and its fields with their options."""
    project = parse_uuid(projectId, "projectId")
    return reply(await actions.init_settings(ctx, caller_id(caller), project))


@get("/api/projects/{projectId:str}/members")
async def project_members(
    ctx: Ctx, caller: Caller, projectId: FromPath[str]
) -> Data[list[ProjectMemberOut]]:
    project = parse_uuid(projectId, "projectId")
    return reply(await members.list_members(ctx, caller_id(caller), project))


@put("/api/projects/{projectId:str}/members/{memberId:str}/role")
async def change_member_role(
    ctx: Ctx,
    caller: Caller,
    projectId: FromPath[str],
    memberId: FromPath[str],
    data: JSONBody[ChangeMemberRole],
) -> Data[ProjectMemberOut]:
    """``memberId`` is the member's user id (contract 5.1); the OWNER only."""
    project, user = parse_uuid(projectId, "projectId"), parse_uuid(memberId, "memberId")
    changed = await members.do_change_role(ctx, caller_id(caller), project, user, data.role_name)
    return reply(changed)


@delete("/api/projects/{projectId:str}/members/{memberId:str}", status_code=200)
async def remove_member(
    ctx: Ctx, caller: Caller, projectId: FromPath[str], memberId: FromPath[str]
) -> Data[MessageOut]:
    project, user = parse_uuid(projectId, "projectId"), parse_uuid(memberId, "memberId")
    await members.do_remove_member(ctx, caller_id(caller), project, user)
    return reply(MessageOut("member removed"))


@get("/api/projects/{projectId:str}/join-requests")
async def join_requests(
    ctx: Ctx,
    caller: Caller,
    projectId: FromPath[str],
    status: FromQuery[RequestStatus | None] = None,
) -> Data[list[JoinRequestOut]]:
    project = parse_uuid(projectId, "projectId")
    return reply(await members.list_join_requests(ctx, caller_id(caller), project, status))


@get("/api/projects/{projectId:str}/attachments")
async def project_files(
    ctx: Ctx, caller: Caller, projectId: FromPath[str]
) -> Data[list[AttachmentOut]]:
    project = parse_uuid(projectId, "projectId")
    return reply(await attachments.list_files(ctx, caller_id(caller), "PROJECT", project))


@get("/api/projects/{projectId:str}/online-users")
async def online_users(ctx: Ctx, caller: Caller, projectId: FromPath[str]) -> OnlineUsers:
    """Users with an open board socket on the project (raw: no envelope, as the original)."""
    project = parse_uuid(projectId, "projectId")
    users = await live.online_users(ctx, caller_id(caller), project)
    return OnlineUsers(online_users=users, count=len(users))


@post("/api/join-requests", status_code=201)
async def request_to_join(
    ctx: Ctx, caller: Caller, data: JSONBody[CreateJoinRequest]
) -> Data[JoinRequestOut]:
    return reply(await members.do_request_to_join(ctx, caller_id(caller), data.project_id))


@put("/api/join-requests/{joinRequestId:str}")
async def decide_join_request(
    ctx: Ctx, caller: Caller, joinRequestId: FromPath[str], data: JSONBody[DecideJoinRequest]
) -> Data[JoinRequestOut]:
    request = parse_uuid(joinRequestId, "joinRequestId")
    decided = await members.decide_join_request(ctx, caller_id(caller), request, data.status)
    return reply(decided)


ROUTES: list[ControllerRouterHandler] = [
    create_project,
    list_projects,
    search_projects,
    workspace_projects,
    default_project,
    get_project,
    update_project,
    delete_project,
    init_settings,
    project_members,
    change_member_role,
    remove_member,
    join_requests,
    project_files,
    online_users,
    request_to_join,
    decide_join_request,
]
