"""Projects: create (with the default field options), list, search, read, change, delete;
the init-settings the kanban screen loads first."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from uuid import UUID

import msgspec

from wealist.board import store
from wealist.board.actions import live
from wealist.board.actions.attachments import attach, purge_soon
from wealist.board.actions.common import (
    PROJECT_NOT_FOUND,
    access_project,
    access_workspace,
    file_refs,
    lock_project,
)
from wealist.board.rows import FileRow, ProjectRow, SeatRow
from wealist.board.schemas.common import check_dates
from wealist.board.schemas.projects import (
    CreateProject,
    FieldTypeOut,
    InitField,
    InitOption,
    InitProject,
    InitSettings,
    ProjectList,
    ProjectOut,
    UpdateProject,
)
from wealist.core.context import ServiceContext
from wealist.core.db import Conn
from wealist.core.errors import NotFound, ValidationFailed

__all__ = (
    "do_create_project",
    "do_delete_project",
    "do_update_project",
    "get_default_project",
    "get_project",
    "init_settings",
    "list_projects",
    "project_out",
    "search_projects",
)

OWNER_ONLY = "only the project owner can do this"
FIELDS = {  # contract 5.1 init-settings: the three select fields
    "stage": ("Stage", "The task's stage: the kanban columns"),
    "importance": ("Importance", "How urgent the task is"),
    "role": ("Role", "Who the task is for"),
}
FIELD_TYPES = [
    FieldTypeOut(type_id="select", type_name="Select", description="One option of a list"),
    FieldTypeOut(type_id="text", type_name="Text", description="Free text"),
    FieldTypeOut(type_id="date", type_name="Date", description="A calendar date"),
    FieldTypeOut(type_id="user", type_name="User", description="A workspace member"),
]


def project_out(ctx: ServiceContext, row: ProjectRow, files: list[FileRow]) -> ProjectOut:
    return ProjectOut(
        project_id=row.id,
        workspace_id=row.workspace_id,
        owner_id=row.owner_id,
        name=row.name,
        description=row.description,
        is_public=row.is_public,
        created_at=row.created_at,
        updated_at=row.updated_at,
        attachments=file_refs(ctx, files),
        start_date=row.start_date,
        due_date=row.due_date,
    )


async def _with_files(ctx: ServiceContext, conn: Conn, rows: list[ProjectRow]) -> list[ProjectOut]:
    """Projects with their files: one query for the files of all of them."""
    files: dict[UUID, list[FileRow]] = defaultdict(list)
    if rows:
        for f in await store.attachments.files_of_projects(conn, [r.id for r in rows]):
            files[f.owner_id].append(f)
    return [project_out(ctx, r, files[r.id]) for r in rows]


async def _one(ctx: ServiceContext, conn: Conn, row: ProjectRow) -> ProjectOut:
    return (await _with_files(ctx, conn, [row]))[0]


async def do_create_project(ctx: ServiceContext, me: UUID, new: CreateProject) -> ProjectOut:
    """A project in a workspace the caller belongs to; they become its OWNER."""
    await access_workspace(ctx, new.workspace_id, me)
    async with ctx.database.transaction() as tx:
        row = await store.projects.insert_project(
            tx,
            project_id=uuid.uuid4(),
            workspace_id=new.workspace_id,
            owner=me,
            name=new.name,
            description=new.description,
            start=new.start_date,
            due=new.due_date,
        )
        await attach(
            ctx,
            tx,
            me,
            new.attachment_ids,
            entity_type="PROJECT",
            entity_id=row.id,
            project_id=row.id,
            workspace_id=row.workspace_id,
        )
        return await _one(ctx, tx, row)


async def list_projects(ctx: ServiceContext, me: UUID, workspace_id: UUID) -> ProjectList:
    await access_workspace(ctx, workspace_id, me)
    async with ctx.database.connection() as conn:
        rows = await store.projects.projects_of_workspace(conn, workspace_id)
        projects = await _with_files(ctx, conn, list(rows))
    return ProjectList(projects=projects, total=len(projects), page=1, limit=len(projects))


def like_pattern(text: str) -> str:
    """``%text%`` for ILIKE, with the caller's own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_projects(
    ctx: ServiceContext, me: UUID, workspace_id: UUID, query: str, *, page: int, limit: int
) -> ProjectList:
    text = query.strip()
    if not text:
        raise ValidationFailed("query must not be empty")
    await access_workspace(ctx, workspace_id, me)
    async with ctx.database.connection() as conn:
        rows = await store.projects.search_projects(
            conn, workspace_id, like_pattern(text), limit, (page - 1) * limit
        )
        projects = await _with_files(ctx, conn, list(rows))
    total = rows[0].total if rows else 0
    return ProjectList(projects=projects, total=total, page=page, limit=limit)


async def get_default_project(ctx: ServiceContext, me: UUID, workspace_id: UUID) -> ProjectOut:
    await access_workspace(ctx, workspace_id, me)
    async with ctx.database.connection() as conn:
        row = await store.projects.default_project(conn, workspace_id)
        if row is None:
            raise NotFound("Default project not found")
        return await _one(ctx, conn, row)


async def get_project(ctx: ServiceContext, me: UUID, project_id: UUID) -> ProjectOut:
    """A project, with its owner's name and email as the workspace shows them."""
    async with ctx.database.connection() as conn:
        shown = await _one(ctx, conn, await access_project(ctx, conn, project_id, me))
    names = await ctx.membership.directory(str(shown.workspace_id), [str(shown.owner_id)])
    if names is not None and names.people:
        owner = names.people[0]
        shown = msgspec.structs.replace(shown, owner_name=owner.name, owner_email=owner.email)
    return shown


async def init_settings(ctx: ServiceContext, me: UUID, project_id: UUID) -> InitSettings:
    """Everything the kanban screen needs first: the project, its fields and their options
    (three queries plus the cached membership check)."""
    async with ctx.database.connection() as conn:
        seat = await access_project(ctx, conn, project_id, me)
        options = await store.options.options_of_project(conn, project_id, None)
        bounds = await store.events.event_bounds(conn, project_id)
    names = await ctx.membership.directory(str(seat.workspace_id), [str(seat.owner_id)])
    owner = names.people[0] if names is not None and names.people else None
    by_field: dict[str, list[InitOption]] = defaultdict(list)
    for o in options:
        by_field[o.field_type].append(
            InitOption(
                option_id=o.id,
                option_label=o.label,
                option_value=o.value,
                color=o.color,
                display_order=o.display_order,
                field_id=o.field_type,
            )
        )
    fields = [
        InitField(
            field_id=field,
            field_name=name,
            field_type="select",
            is_required=True,
            description=description,
            options=by_field[field],
        )
        for field, (name, description) in FIELDS.items()
    ]
    project = InitProject(
        project_id=seat.id,
        workspace_id=seat.workspace_id,
        workspace_name=names.workspace_name if names is not None else "",
        owner_name=owner.name if owner is not None else None,
        owner_email=owner.email if owner is not None else None,
        name=seat.name,
        description=seat.description,
        owner_id=seat.owner_id,
        is_public=seat.is_public,
        created_at=seat.created_at,
        updated_at=seat.updated_at,
        start_date=seat.start_date,
        due_date=seat.due_date,
    )
    return InitSettings(
        project=project,
        fields=fields,
        field_types=FIELD_TYPES,
        event_seq=bounds.last if bounds is not None else 0,
    )


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
        seat = await lock_project(ctx, tx, project_id, me, roles={"OWNER"}, why=OWNER_ONLY)
        start, set_start, due, set_due = _dates(seat, change)
        row = await store.projects.update_project(
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
        await attach(
            ctx,
            tx,
            me,
            change.attachment_ids,
            entity_type="PROJECT",
            entity_id=row.id,
            project_id=row.id,
            workspace_id=row.workspace_id,
        )
        shown = await _one(ctx, tx, row)
        await live.emit(ctx, tx, project_id, live.PROJECT_UPDATED, shown, actor=me)
    return shown


async def do_delete_project(ctx: ServiceContext, me: UUID, project_id: UUID) -> None:
    """The OWNER deletes a project with everything in it; its files go to the cleanup."""
    async with ctx.database.transaction() as tx:
        await lock_project(ctx, tx, project_id, me, roles={"OWNER"}, why=OWNER_ONLY)
        await live.emit(
            ctx, tx, project_id, live.PROJECT_DELETED, {"projectId": project_id}, actor=me
        )
        await store.attachments.discard(tx, project=project_id)
        await store.projects.delete_project(tx, project_id)
        tx.on_commit(lambda: purge_soon(ctx))
