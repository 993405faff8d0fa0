"""``/api/storage/projects``: shared drives. Replies are the raw DTOs (as the original)
carrying ``success`` and ``data`` too (as the frontend reads them)."""

from __future__ import annotations

import msgspec
from litestar import delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from wealist.core.deps import Caller, Ctx
from wealist.storage.actions import projects as actions
from wealist.storage.actions.common import caller_id, parse_uuid
from wealist.storage.api.common import paging
from wealist.storage.schemas import (
    AddMember,
    ChangeMember,
    CreateProject,
    MemberReply,
    MembersReply,
    Ok,
    PermissionOut,
    ProjectListReply,
    ProjectOut,
    ProjectReply,
    StatsOut,
    UpdateProject,
    ok,
)

__all__ = ("ROUTES",)

# ruff: noqa: N803  # path and query names keep the contract's camelCase


def _reply(project: ProjectOut) -> ProjectReply:
    return ProjectReply(**msgspec.structs.asdict(project), data=project, success=True)


@post("/api/storage/projects", status_code=201)
async def create_project(ctx: Ctx, caller: Caller, data: JSONBody[CreateProject]) -> ProjectReply:
    """A shared drive in one of the caller's workspaces; they become its OWNER."""
    return _reply(await actions.do_create_project(ctx, caller_id(caller), data))


@get("/api/storage/projects/{projectId:str}")
async def get_project(ctx: Ctx, caller: Caller, projectId: FromPath[str]) -> ProjectReply:
    project = parse_uuid(projectId, "projectId")
    return _reply(await actions.get_project(ctx, caller_id(caller), project))


@put("/api/storage/projects/{projectId:str}")
async def update_project(
    ctx: Ctx, caller: Caller, projectId: FromPath[str], data: JSONBody[UpdateProject]
) -> ProjectReply:
    project = parse_uuid(projectId, "projectId")
    return _reply(await actions.do_update_project(ctx, caller_id(caller), project, data))


@delete("/api/storage/projects/{projectId:str}", status_code=204)
async def delete_project(ctx: Ctx, caller: Caller, projectId: FromPath[str]) -> None:
    """The drive and everything in it, for good (its OWNER only)."""
    await actions.do_delete_project(ctx, caller_id(caller), parse_uuid(projectId, "projectId"))


@get("/api/storage/projects/{projectId:str}/my-permission")
async def my_permission(ctx: Ctx, caller: Caller, projectId: FromPath[str]) -> Ok[PermissionOut]:
    project = parse_uuid(projectId, "projectId")
    return ok(await actions.my_permission(ctx, caller_id(caller), project))


@get("/api/storage/projects/{projectId:str}/stats")
async def project_stats(ctx: Ctx, caller: Caller, projectId: FromPath[str]) -> Ok[StatsOut]:
    project = parse_uuid(projectId, "projectId")
    return ok(await actions.project_stats(ctx, caller_id(caller), project))


@post("/api/storage/projects/{projectId:str}/members", status_code=201)
async def add_member(
    ctx: Ctx, caller: Caller, projectId: FromPath[str], data: JSONBody[AddMember]
) -> MemberReply:
    project = parse_uuid(projectId, "projectId")
    member = await actions.do_add_member(ctx, caller_id(caller), project, data)
    return MemberReply(**msgspec.structs.asdict(member), data=member, success=True)


@get("/api/storage/projects/{projectId:str}/members")
async def list_members(ctx: Ctx, caller: Caller, projectId: FromPath[str]) -> MembersReply:
    project = parse_uuid(projectId, "projectId")
    members = await actions.list_members(ctx, caller_id(caller), project)
    return MembersReply(members=members, data=members, success=True)


@put("/api/storage/projects/{projectId:str}/members/{userId:str}")
async def change_member(
    ctx: Ctx,
    caller: Caller,
    projectId: FromPath[str],
    userId: FromPath[str],
    data: JSONBody[ChangeMember],
) -> MemberReply:
    """``userId``: the member's user id, or their membership id (the frontend's)."""
    project, who = parse_uuid(projectId, "projectId"), parse_uuid(userId, "userId")
    member = await actions.do_change_member(ctx, caller_id(caller), project, who, data)
    return MemberReply(**msgspec.structs.asdict(member), data=member, success=True)


@delete("/api/storage/projects/{projectId:str}/members/{userId:str}", status_code=204)
async def remove_member(
    ctx: Ctx, caller: Caller, projectId: FromPath[str], userId: FromPath[str]
) -> None:
    project, who = parse_uuid(projectId, "projectId"), parse_uuid(userId, "userId")
    await actions.do_remove_member(ctx, caller_id(caller), project, who)


@get("/api/storage/workspaces/{workspaceId:str}/projects")
async def workspace_projects(
    ctx: Ctx,
    caller: Caller,
    workspaceId: FromPath[str],
    page: FromQuery[int | None] = None,
    pageSize: FromQuery[int | None] = None,
) -> ProjectListReply:
    """The drives the caller may open: public ones and those they belong to."""
    workspace = parse_uuid(workspaceId, "workspaceId")
    chosen, size = paging(page, pageSize)
    return await actions.list_projects(ctx, caller_id(caller), workspace, chosen, size)


ROUTES = [
    create_project,
    get_project,
    update_project,
    delete_project,
    my_permission,
    project_stats,
    add_member,
    list_members,
    change_member,
    remove_member,
    workspace_projects,
]
