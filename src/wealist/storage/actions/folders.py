"""Folders: create, read, list contents, rename and move, trash, restore, delete for good.

A folder's subtree moves, trashes and restores with it: trashing marks every live folder
and file under it with the folder's id (``trash_root``), and restoring brings back exactly
those. A folder whose parent is no longer live comes back at its drive's root.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

import msgspec

from wealist.core.context import ServiceContext
from wealist.core.db import Tx
from wealist.core.errors import AlreadyExists, Conflict, ValidationFailed
from wealist.storage import store
from wealist.storage.actions.common import (
    EDIT,
    NIL,
    VIEW,
    access_folder,
    access_place,
    access_project,
    access_workspace,
    discard_after_commit,
    escape_like,
    file_out,
    folder_out,
    unique_folder_name,
)
from wealist.storage.rows import FolderRow, FolderSeat, Place
from wealist.storage.schemas import CreateFolder, FolderOut, UpdateFolder

__all__ = (
    "do_create_folder",
    "do_purge_folder",
    "do_restore_folder",
    "do_trash_folder",
    "do_update_folder",
    "folder_contents",
    "get_folder",
    "workspace_folders",
)

WORKSPACE_FOLDERS_LIMIT = 5000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the synthetic root folder's timestamps


def _place_of(row: FolderRow) -> Place:
    """Where a folder sits (its parent's place)."""
    return Place(row.workspace_id, row.project_id, row.parent_id)


def _under(parent: FolderRow | None, name: str) -> str:
    return f"{parent.path if parent else ''}/{name}"


async def do_create_folder(ctx: ServiceContext, me: UUID, new: CreateFolder) -> FolderOut:
    async with ctx.database.transaction() as tx:
        place, parent = await access_place(
            ctx,
            tx,
            me,
            workspace_id=new.workspace_id,
            project_id=new.project_id,
            folder_id=new.parent_id,
        )
        await store.lock_names(tx, place.lock_key)
        name = await unique_folder_name(tx, place, new.name)
        folder_id = uuid.uuid4()
        row = await store.insert_folder(
            tx,
            folder_id=folder_id,
            workspace_id=place.workspace_id,
            project_id=place.project_id,
            parent_id=place.folder_id,
            name=name,
            path=_under(parent, name),
            ancestors=[*(parent.ancestors if parent else []), folder_id],
            color=new.color,
            user=me,
        )
    return folder_out(row)


async def get_folder(ctx: ServiceContext, me: UUID, folder_id: UUID) -> FolderOut:
    async with ctx.database.connection() as conn:
        seat = await access_folder(ctx, conn, folder_id, me, VIEW, trashed=True)
        counts = await store.folder_counts(conn, folder_id)
    return folder_out(seat, counts=(counts.file_count, counts.folder_count, counts.total_size))


async def folder_contents(
    ctx: ServiceContext,
    me: UUID,
    workspace_id: UUID,
    folder_id: UUID | None,
    project_id: UUID | None,
) -> FolderOut:
    """A folder (or a drive's root, a synthetic folder) with its folders and files."""
    seat: FolderSeat | None = None
    async with ctx.database.connection() as conn:
        if folder_id is not None:
            seat = await access_folder(ctx, conn, folder_id, me, VIEW)
            if seat.workspace_id != workspace_id:
                raise ValidationFailed("the folder belongs to another workspace")
            place = Place(workspace_id, seat.project_id, folder_id)
        elif project_id is not None:
            project = await access_project(ctx, conn, project_id, me, VIEW)
            if project.workspace_id != workspace_id:
                raise ValidationFailed("the drive belongs to another workspace")
            place = Place(workspace_id, project_id, None)
        else:
            await access_workspace(ctx, workspace_id, me)
            place = Place(workspace_id, None, None)
        children = await store.child_folders(conn, place)
        files = await store.files_in(conn, place, limit=100_000)
    child_out = [
        folder_out(c, counts=(c.file_count, c.folder_count, c.total_size)) for c in children
    ]
    file_list = [file_out(ctx, f) for f in files]
    counts = (len(file_list), len(child_out), sum(f.file_size for f in files))
    if seat is not None:
        return folder_out(seat, counts=counts, children=child_out, files=file_list)
    return FolderOut(
        id=NIL,
        workspace_id=workspace_id,
        project_id=project_id,
        name="Root",
        path="/",
        created_by=NIL,
        created_at=EPOCH,
        updated_at=EPOCH,
        is_deleted=False,
        file_count=counts[0],
        folder_count=counts[1],
        total_size=counts[2],
        children=child_out,
        files=file_list,
    )


async def workspace_folders(ctx: ServiceContext, me: UUID, workspace_id: UUID) -> list[FolderOut]:
    await access_workspace(ctx, workspace_id, me)
    async with ctx.database.connection() as conn:
        rows = await store.workspace_folders(conn, workspace_id, me, WORKSPACE_FOLDERS_LIMIT)
    return [folder_out(r, counts=(r.file_count, r.folder_count, r.total_size)) for r in rows]


async def _move_tree(tx: Tx, folder: FolderRow, parent: FolderRow | None, name: str) -> None:
    """Re-root ``folder``'s subtree under ``parent`` (None: the drive's root) as ``name``."""
    await store.reroot_tree(
        tx,
        folder.id,
        old_path=folder.path,
        new_path=_under(parent, name),
        old_depth=len(folder.ancestors),
        new_prefix=[*(parent.ancestors if parent else []), folder.id],
    )


async def do_update_folder(
    ctx: ServiceContext, me: UUID, folder_id: UUID, change: UpdateFolder
) -> FolderOut:
    async with ctx.database.transaction() as tx:
        seat = await access_folder(ctx, tx, folder_id, me, EDIT)
        parent_id = seat.parent_id
        parent: FolderSeat | None = None
        if change.parent_id is not msgspec.UNSET:
            parent_id = None if change.parent_id in {None, NIL} else change.parent_id
        if parent_id is not None:
            parent = await access_folder(ctx, tx, parent_id, me, EDIT)
            if parent.workspace_id != seat.workspace_id or parent.project_id != seat.project_id:
                raise ValidationFailed("a folder moves within its own drive")
            if seat.id in parent.ancestors:
                raise ValidationFailed("a folder cannot move into itself or a folder inside it")
        place = Place(seat.workspace_id, seat.project_id, parent_id)
        name = seat.name if change.name is msgspec.UNSET else change.name
        if name != seat.name or parent_id != seat.parent_id:
            await store.lock_names(tx, place.lock_key)
            if name in await store.folder_names(tx, place, name, escape_like(name)):
                raise AlreadyExists(f"a folder named {name!r} is already there")
        color = seat.color if change.color is msgspec.UNSET else change.color
        await store.set_folder(tx, folder_id, name=name, color=color, parent_id=parent_id)
        if name != seat.name or parent_id != seat.parent_id:
            await _move_tree(tx, seat, parent, name)
        updated = await access_folder(ctx, tx, folder_id, me, VIEW)
        counts = await store.folder_counts(tx, folder_id)
    return folder_out(updated, counts=(counts.file_count, counts.folder_count, counts.total_size))


async def do_trash_folder(ctx: ServiceContext, me: UUID, folder_id: UUID) -> None:
    async with ctx.database.transaction() as tx:
        await access_folder(ctx, tx, folder_id, me, EDIT)
        await store.trash_folder_tree(tx, folder_id)


async def do_restore_folder(ctx: ServiceContext, me: UUID, folder_id: UUID) -> FolderOut:
    """What the folder's deletion took comes back, under a free name; at the drive's root
    when its parent is gone or in the trash."""
    async with ctx.database.transaction() as tx:
        seat = await access_folder(ctx, tx, folder_id, me, EDIT, trashed=True)
        if seat.trash_root != seat.id:
            raise Conflict("the folder went to the trash with its parent; restore that")
        parent: FolderSeat | None = None
        if seat.parent_id is not None:
            found = await store.folder_seat(tx, seat.parent_id, me)
            parent = found if found is not None and found.deleted_at is None else None
        place = Place(seat.workspace_id, seat.project_id, parent.id if parent else None)
        await store.lock_names(tx, place.lock_key)
        name = await unique_folder_name(tx, place, seat.name)
        if name != seat.name or place.folder_id != seat.parent_id:  # before it is live again
            await store.set_folder(
                tx, folder_id, name=name, color=seat.color, parent_id=place.folder_id
            )
            await _move_tree(tx, seat, parent, name)
        await store.restore_folder_tree(tx, folder_id)
        restored = await access_folder(ctx, tx, folder_id, me, VIEW)
    return folder_out(restored)


async def do_purge_folder(ctx: ServiceContext, me: UUID, folder_id: UUID) -> None:
    """The folder, everything under it and their objects, for good."""
    async with ctx.database.transaction() as tx:
        await access_folder(ctx, tx, folder_id, me, EDIT, trashed=True)
        purged = await store.purge(tx, folders=[folder_id], files=[])
        discard_after_commit(ctx, tx, purged.keys)
