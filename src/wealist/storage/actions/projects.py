"""Shared drives ("projects"): create, read, change, delete, members, stats.

Any workspace member may create a drive and becomes its OWNER. Viewers see it and its
members; editors rename it and add VIEWER/EDITOR members; only an OWNER makes it public,
changes its default permission, grants OWNER, changes or removes others, or deletes it.
"""

from __future__ import annotations

import math
import uuid
from uuid import UUID

import msgspec

from wealist.core.context import ServiceContext
from wealist.core.errors import AlreadyExists, Conflict, Forbidden, NotFound, ValidationFailed
from wealist.storage import store
from wealist.storage.actions.common import (
    DRIVE_LEVELS,
    EDIT,
    MANAGE,
    VIEW,
    access_project,
    access_workspace,
    discard_after_commit,
    drive_level,
    project_out,
)
from wealist.storage.rows import MemberRow
from wealist.storage.schemas import (
    AddMember,
    ChangeMember,
    CreateProject,
    MemberOut,
    PermissionOut,
    ProjectListReply,
    ProjectOut,
    StatsOut,
    UpdateProject,
)

__all__ = (
    "do_add_member",
    "do_change_member",
    "do_create_project",
    "do_delete_project",
    "do_remove_member",
    "do_update_project",
    "get_project",
    "list_members",
    "list_projects",
    "my_permission",
    "project_stats",
)


def member_out(row: MemberRow) -> MemberOut:
    return MemberOut(
        id=row.id,
        project_id=row.project_id,
        user_id=row.user_id,
        permission=row.permission,
        added_by=row.added_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _view(ctx: ServiceContext, project_id: UUID, me: UUID) -> ProjectOut:
    async with ctx.database.connection() as conn:
        row = await store.project_view(conn, project_id, me)
    if row is None:
        raise NotFound("project not found")
    return project_out(row)


async def do_create_project(ctx: ServiceContext, me: UUID, new: CreateProject) -> ProjectOut:
    await access_workspace(ctx, new.workspace_id, me)
    project_id = uuid.uuid4()
    async with ctx.database.transaction() as tx:
        await store.insert_project(
            tx,
            project_id=project_id,
            workspace_id=new.workspace_id,
            user=me,
            name=new.name,
            description=new.description,
            default_permission=new.default_permission,
            is_public=new.is_public,
        )
    return await _view(ctx, project_id, me)


async def get_project(ctx: ServiceContext, me: UUID, project_id: UUID) -> ProjectOut:
    async with ctx.database.connection() as conn:
        await access_project(ctx, conn, project_id, me, VIEW)
        row = await store.project_view(conn, project_id, me)
    if row is None:
        raise NotFound("project not found")
    return project_out(row)


async def list_projects(
    ctx: ServiceContext, me: UUID, workspace_id: UUID, page: int, page_size: int
) -> ProjectListReply:
    await access_workspace(ctx, workspace_id, me)
    async with ctx.database.connection() as conn:
        rows = await store.visible_projects(
            conn, workspace_id, me, limit=page_size, offset=(page - 1) * page_size
        )
    projects = [project_out(r) for r in rows]
    total = rows[0].total if rows else 0
    return ProjectListReply(
        projects=projects,
        total=total,
        page=page,
        page_size=page_size,
        total_pages=math.ceil(total / page_size),
        data=projects,
        success=True,
    )


async def do_update_project(
    ctx: ServiceContext, me: UUID, project_id: UUID, change: UpdateProject
) -> ProjectOut:
    async with ctx.database.transaction() as tx:
        seat = await access_project(ctx, tx, project_id, me, EDIT)
        level = drive_level(seat.id, seat.permission, seat.is_public, seat.default_permission)
        widens = change.is_public is not msgspec.UNSET or (
            change.default_permission is not msgspec.UNSET
        )
        if widens and level < MANAGE:
            raise Forbidden("only a drive OWNER can change who may open it")
        await store.update_project(
            tx,
            project_id,
            name=None if change.name is msgspec.UNSET else change.name,
            description=None if change.description is msgspec.UNSET else change.description,
            set_description=change.description is not msgspec.UNSET,
            default_permission=(
                None if change.default_permission is msgspec.UNSET else change.default_permission
            ),
            is_public=None if change.is_public is msgspec.UNSET else change.is_public,
        )
    return await _view(ctx, project_id, me)


async def do_delete_project(ctx: ServiceContext, me: UUID, project_id: UUID) -> None:
    """The drive goes, and with it everything it held (objects included)."""
    async with ctx.database.transaction() as tx:
        await access_project(ctx, tx, project_id, me, MANAGE)
        await store.delete_project(tx, project_id)
        purged = await store.purge_project(tx, project_id)
        discard_after_commit(ctx, tx, purged.keys)


async def my_permission(ctx: ServiceContext, me: UUID, project_id: UUID) -> PermissionOut:
    async with ctx.database.connection() as conn:
        seat = await access_project(ctx, conn, project_id, me, VIEW)
    level = drive_level(seat.id, seat.permission, seat.is_public, seat.default_permission)
    return PermissionOut(permission={VIEW: "VIEWER", EDIT: "EDITOR", MANAGE: "OWNER"}[level])


async def project_stats(ctx: ServiceContext, me: UUID, project_id: UUID) -> StatsOut:
    project = await get_project(ctx, me, project_id)
    return StatsOut(
        project_id=project.id,
        file_count=project.file_count,
        folder_count=project.folder_count,
        total_size=project.total_size,
        member_count=project.member_count,
    )


async def list_members(ctx: ServiceContext, me: UUID, project_id: UUID) -> list[MemberOut]:
    async with ctx.database.connection() as conn:
        await access_project(ctx, conn, project_id, me, VIEW)
        rows = await store.project_members(conn, project_id)
    return [member_out(r) for r in rows]


async def do_add_member(
    ctx: ServiceContext, me: UUID, project_id: UUID, new: AddMember
) -> MemberOut:
    async with ctx.database.transaction() as tx:
        seat = await access_project(ctx, tx, project_id, me, EDIT)
        level = drive_level(seat.id, seat.permission, seat.is_public, seat.default_permission)
        if new.permission == "OWNER" and level < MANAGE:
            raise Forbidden("only a drive OWNER can add another OWNER")
        target = await ctx.membership.get(str(seat.workspace_id), str(new.user_id))
        if not target.is_member:
            raise ValidationFailed("the user is not a member of this workspace")
        row = await store.insert_member(tx, project_id, new.user_id, new.permission, me)
    if row is None:
        raise AlreadyExists("the user is already a member of this drive")
    return member_out(row)


async def do_change_member(
    ctx: ServiceContext, me: UUID, project_id: UUID, who: UUID, change: ChangeMember
) -> MemberOut:
    """``who`` is a user id or a membership id (the frontend sends the latter)."""
    async with ctx.database.transaction() as tx:
        await access_project(ctx, tx, project_id, me, MANAGE)
        owners = await store.lock_project_owners(tx, project_id)
        member = await store.project_member(tx, project_id, who)
        if member is None:
            raise NotFound("member not found")
        if member.user_id == me:
            raise Forbidden("you cannot change your own permission")
        if member.permission == "OWNER" and change.permission != "OWNER" and len(owners) <= 1:
            raise Conflict("a drive keeps at least one OWNER")
        row = await store.update_member(tx, member.id, change.permission)
    if row is None:
        raise NotFound("member not found")
    return member_out(row)


async def do_remove_member(ctx: ServiceContext, me: UUID, project_id: UUID, who: UUID) -> None:
    """An OWNER removes anyone; a member may leave (the last OWNER may not)."""
    async with ctx.database.transaction() as tx:
        seat = await access_project(ctx, tx, project_id, me, VIEW)
        owners = await store.lock_project_owners(tx, project_id)
        member = await store.project_member(tx, project_id, who)
        if member is None:
            raise NotFound("member not found")
        mine = DRIVE_LEVELS.get(seat.permission or "", 0)
        if member.user_id != me and mine < MANAGE:
            raise Forbidden("only a drive OWNER can remove others")
        if member.permission == "OWNER" and len(owners) <= 1:
            raise Conflict("a drive keeps at least one OWNER")
        await store.delete_member(tx, member.id)
