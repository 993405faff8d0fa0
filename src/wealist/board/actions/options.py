"""Field options of a project: list (workspace members), create, change and delete (the
project's OWNER or an ADMIN). Every change reaches the project's sockets."""

from __future__ import annotations

from uuid import UUID

from wealist.board import store
from wealist.board.actions import live
from wealist.board.actions.common import ADMINS, access_project, lock_project
from wealist.board.rows import FieldOptionRow
from wealist.board.schemas.options import CreateOption, OptionOut, UpdateOption
from wealist.core.context import ServiceContext
from wealist.core.db import Tx
from wealist.core.errors import AlreadyExists, BadRequest, Conflict, NotFound

__all__ = ("do_create_option", "do_delete_option", "do_update_option", "list_options")

OPTION_NOT_FOUND = "field option not found"
ADMINS_ONLY = "only the project owner or an admin can change its fields"


def option_out(row: FieldOptionRow) -> OptionOut:
    return OptionOut(
        option_id=row.id,
        project_id=row.project_id,
        field_type=row.field_type,
        value=row.value,
        label=row.label,
        color=row.color,
        display_order=row.display_order,
        is_system_default=row.is_system_default,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def list_options(
    ctx: ServiceContext, me: UUID, project_id: UUID | None, field_type: str | None
) -> list[OptionOut]:
    """A project's options; without a project, those of every project the caller is a
    member of (the original frontend asks without one)."""
    async with ctx.database.connection() as conn:
        if project_id is None:
            rows = await store.options.options_of_member_projects(conn, me, field_type)
        else:
            await access_project(ctx, conn, project_id, me)
            rows = await store.options.options_of_project(conn, project_id, field_type)
    return [option_out(r) for r in rows]


async def _lock_option(ctx: ServiceContext, tx: Tx, me: UUID, option_id: UUID) -> FieldOptionRow:
    project_id = await store.options.option_project(tx, option_id)
    if project_id is None:
        raise NotFound(OPTION_NOT_FOUND)
    try:
        await lock_project(ctx, tx, project_id, me, roles=ADMINS, why=ADMINS_ONLY)
    except NotFound:
        raise NotFound(OPTION_NOT_FOUND) from None
    row = await store.options.option_by_id(tx, option_id)
    if row is None:
        raise NotFound(OPTION_NOT_FOUND)
    return row


async def _changed(ctx: ServiceContext, tx: Tx, me: UUID, project_id: UUID) -> None:
    options = [option_out(o) for o in await store.options.options_of_project(tx, project_id, None)]
    await live.emit(ctx, tx, project_id, live.FIELD_OPTIONS_CHANGED, options, actor=me)


async def do_create_option(ctx: ServiceContext, me: UUID, new: CreateOption) -> OptionOut:
    async with ctx.database.transaction() as tx:
        await lock_project(ctx, tx, new.project_id, me, roles=ADMINS, why=ADMINS_ONLY)
        row = await store.options.insert_option(
            tx,
            new.project_id,
            field_type=new.field_type,
            value=new.value,
            label=new.label,
            color=new.color,
            order=new.display_order,
        )
        if row is None:
            raise AlreadyExists(f"the project has a {new.field_type} option {new.value!r}")
        await _changed(ctx, tx, me, new.project_id)
    return option_out(row)


async def do_update_option(
    ctx: ServiceContext, me: UUID, option_id: UUID, change: UpdateOption
) -> OptionOut:
    async with ctx.database.transaction() as tx:
        await _lock_option(ctx, tx, me, option_id)
        row = await store.options.update_option(
            tx, option_id, label=change.label, color=change.color, order=change.display_order
        )
        assert row is not None  # its project is locked
        await _changed(ctx, tx, me, row.project_id)
    return option_out(row)


async def do_delete_option(ctx: ServiceContext, me: UUID, option_id: UUID) -> None:
    """Deletes an option no board uses; the 13 defaults stay (400)."""
    async with ctx.database.transaction() as tx:
        row = await _lock_option(ctx, tx, me, option_id)
        if row.is_system_default:
            raise BadRequest("default field options cannot be deleted")
        if await store.options.option_in_use(tx, row.project_id, row.field_type, row.value):
            raise Conflict("boards use this option; move them to another one first")
        await store.options.delete_option(tx, option_id)
        await _changed(ctx, tx, me, row.project_id)
