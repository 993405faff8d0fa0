"""Projects: create (with the default field options), list, read, change, delete."""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

import msgspec

from wealist.board import store
from wealist.board.actions.common import PROJECT_NOT_FOUND, access_project, access_workspace
from wealist.board.rows import ProjectMemberRow, ProjectRow, SeatRow
from wealist.board.schemas import (
    CreateProject,
    ProjectList,
    ProjectMemberOut,
    ProjectOut,
    UpdateProject,
    check_dates,
)
from wealist.core.context import ServiceContext
from wealist.core.errors import Forbidden, NotFound, ValidationFailed

__all__ = (
    "do_create_project",
    "do_delete_project",
    "do_update_project",
    "get_default_project",
    "get_project",
    "list_project_members",
    "list_projects",
    "project_out",
)


def project_out(row: ProjectRow) -> ProjectOut:
    return ProjectOut(
        project_id=row.id,
        workspace_id=row.workspace_id,
        owner_id=row.owner_id,
        name=row.name,
        description=row.description,
        is_public=row.is_public,
        created_at=row.created_at,
        updated_at=row.updated_at,
        attachments=[],  # project attachments arrive with the attachment routes
        start_date=row.start_date,
        due_date=row.due_date,
    )


def member_out(row: ProjectMemberRow) -> ProjectMemberOut:
    return ProjectMemberOut(
        member_id=row.id,
        project_id=row.project_id,
        user_id=row.user_id,
        role_name=row.role_name,
        joined_at=row.joined_at,
    )


async def do_create_project(ctx: ServiceContext, me: UUID, new: CreateProject) -> ProjectOut:
    """A project in a workspace the caller belongs to; they become its OWNER."""
    await access_workspace(ctx, new.workspace_id, me)
    async with ctx.database.transaction() as tx:
        row = await store.insert_project(
            tx,
            project_id=uuid.uuid4(),
            workspace_id=new.workspace_id,
            owner=me,
            name=new.name,
            description=new.description,
            start=new.start_date,
            due=new.due_date,
        )
    return project_out(row)


async def list_projects(ctx: ServiceContext, me: UUID, workspace_id: UUID) -> ProjectList:
    await access_workspace(ctx, workspace_id, me)
    async with ctx.database.connection() as conn:
        rows = await store.projects_of_workspace(conn, workspace_id)
    projects = [project_out(r) for r in rows]
    return ProjectList(projects=projects, total=len(projects), page=1, limit=len(projects))


async def get_default_project(ctx: ServiceContext, me: UUID, workspace_id: UUID) -> ProjectOut:
    await access_workspace(ctx, workspace_id, me)
    async with ctx.database.connection() as conn:
        row = await store.default_project(conn, workspace_id)
    if row is None:
        raise NotFound("Default project not found")
    return project_out(row)


async def get_project(ctx: ServiceContext, me: UUID, project_id: UUID) -> ProjectOut:
    async with ctx.database.connection() as conn:
        return project_out(await access_project(ctx, conn, project_id, me))


def _require_owner(seat: SeatRow) -> None:
    if seat.role != "OWNER":
        raise Forbidden("only the project owner can do this")


def _dates(
    seat: SeatRow, change: UpdateProject
) -> tuple[datetime | None, bool, datetime | None, bool]:
    start = seat.start_date if change.start_date is msgspec.UNSET else change.start_date
    due = seat.due_date if change.due_date is msgspec.UNSET else change.due_date
    try:
        check_dates(start, due)
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    return start, change.start_date is not msgspec.UNSET, due, change.due_date is not msgspec.UNSET


async def do_update_project(
    ctx: ServiceContext, me: UUID, project_id: UUID, change: UpdateProject
) -> ProjectOut:
    async with ctx.database.transaction() as tx:
        seat = await access_project(ctx, tx, project_id, me)
        _require_owner(seat)
        start, set_start, due, set_due = _dates(seat, change)
        row = await store.update_project(
            tx,
            project_id,
            name=change.name,
            description=change.description,
            start=start,
            set_start=set_start,
            due=due,
            set_due=set_due,
        )
    if row is None:
        raise NotFound(PROJECT_NOT_FOUND)
    return project_out(row)


async def do_delete_project(ctx: ServiceContext, me: UUID, project_id: UUID) -> None:
    async with ctx.database.transaction() as tx:
        _require_owner(await access_project(ctx, tx, project_id, me))
        await store.delete_project(tx, project_id)


async def list_project_members(
    ctx: ServiceContext, me: UUID, project_id: UUID
) -> list[ProjectMemberOut]:
    """Project members, for project members only (a workspace member who is not in the
    project gets 403)."""
    async with ctx.database.connection() as conn:
        seat = await access_project(ctx, conn, project_id, me)
        if seat.role is None:
            raise Forbidden("only project members can list its members")
        rows = await store.project_members(conn, project_id)
    return [member_out(r) for r in rows]
