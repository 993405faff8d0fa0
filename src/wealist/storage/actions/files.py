"""One file: read, download, rename and move, trash, restore, delete for good, versions."""

from __future__ import annotations

import posixpath
from datetime import UTC, datetime, timedelta
from uuid import UUID

import msgspec

from wealist.core.context import ServiceContext
from wealist.core.errors import AlreadyExists, Conflict, NotFound, ValidationFailed
from wealist.storage import store
from wealist.storage.actions.common import (
    EDIT,
    NIL,
    VIEW,
    access_file,
    access_folder,
    blobs_of,
    discard_after_commit,
    escape_like,
    file_out,
    settings_of,
    unique_file_name,
)
from wealist.storage.actions.uploads import check_extension
from wealist.storage.rows import FileRow, FileSeat, Place, VersionRow
from wealist.storage.schemas import DownloadOut, FileOut, UpdateFile, VersionOut

__all__ = (
    "do_purge_file",
    "do_restore_file",
    "do_restore_version",
    "do_trash_file",
    "do_update_file",
    "download_url",
    "get_file",
    "list_versions",
    "version_download_url",
)


async def get_file(ctx: ServiceContext, me: UUID, file_id: UUID) -> FileOut:
    async with ctx.database.connection() as conn:
        seat = await access_file(ctx, conn, file_id, me, VIEW, trashed=True)
    return file_out(ctx, seat)


async def presigned_download(
    ctx: ServiceContext, key: str, name: str, content_type: str
) -> DownloadOut:
    """A short-lived GET that saves the object as ``name`` with its stored type."""
    ttl = settings_of(ctx).download_url_ttl_s
    url = await blobs_of(ctx).presign_download(
        key, expires_s=ttl, filename=name, content_type=content_type
    )
    return DownloadOut(
        download_url=url, expires_at=datetime.now(UTC) + timedelta(seconds=ttl), file_name=name
    )


async def download_url(ctx: ServiceContext, me: UUID, file_id: UUID) -> DownloadOut:
    async with ctx.database.connection() as conn:
        seat = await access_file(ctx, conn, file_id, me, VIEW)
    return await presigned_download(ctx, seat.file_key, seat.name, seat.content_type)


def _renamed(seat: FileRow, name: str) -> str:
    """A new name keeps the old extension when it brings none (contract 8.3)."""
    if not posixpath.splitext(name)[1]:
        name += posixpath.splitext(seat.name)[1]
    check_extension(name)
    return name


async def do_update_file(
    ctx: ServiceContext, me: UUID, file_id: UUID, change: UpdateFile
) -> FileOut:
    async with ctx.database.transaction() as tx:
        seat = await access_file(ctx, tx, file_id, me, EDIT)
        name = seat.name if change.name is msgspec.UNSET else _renamed(seat, change.name)
        folder_id = seat.folder_id
        if change.folder_id is not msgspec.UNSET:
            folder_id = None if change.folder_id in {None, NIL} else change.folder_id
        if folder_id is not None and folder_id != seat.folder_id:
            folder = await access_folder(ctx, tx, folder_id, me, EDIT)
            if folder.workspace_id != seat.workspace_id or folder.project_id != seat.project_id:
                raise ValidationFailed("a file moves within its own drive")
        if (name, folder_id) != (seat.name, seat.folder_id):
            place = Place(seat.workspace_id, seat.project_id, folder_id)
            await store.lock_names(tx, place.lock_key)
            if name in await store.file_names(tx, place, name, escape_like(name)):
                raise AlreadyExists(f"a file named {name!r} is already there")
        row = await store.place_file(tx, file_id, name=name, folder_id=folder_id)
    return file_out(ctx, row)


async def do_trash_file(ctx: ServiceContext, me: UUID, file_id: UUID) -> None:
    async with ctx.database.transaction() as tx:
        await access_file(ctx, tx, file_id, me, EDIT)
        await store.trash_file(tx, file_id)


async def do_restore_file(ctx: ServiceContext, me: UUID, file_id: UUID) -> FileOut:
    """Back where it was under a free name, or at the drive's root if its folder is gone."""
    async with ctx.database.transaction() as tx:
        seat = await access_file(ctx, tx, file_id, me, EDIT, trashed=True)
        if seat.status != "DELETED":
            raise Conflict("the file is not in the trash")
        if seat.trash_root != seat.id:
            raise Conflict("the file went to the trash with its folder; restore that")
        folder_id = seat.folder_id
        if folder_id is not None:
            folder = await store.folder_seat(tx, folder_id, me)
            folder_id = folder.id if folder is not None and folder.deleted_at is None else None
        place = Place(seat.workspace_id, seat.project_id, folder_id)
        await store.lock_names(tx, place.lock_key)
        name = await unique_file_name(tx, place, seat.name)
        row = await store.restore_file(tx, file_id, name=name, folder_id=folder_id)
    if row is None:
        raise Conflict("the file is not in the trash")
    return file_out(ctx, row)


async def do_purge_file(ctx: ServiceContext, me: UUID, file_id: UUID) -> None:
    """The file and every version's object, for good."""
    async with ctx.database.transaction() as tx:
        await access_file(ctx, tx, file_id, me, EDIT, trashed=True)
        purged = await store.purge(tx, folders=[], files=[file_id])
        discard_after_commit(ctx, tx, purged.keys)


def version_out(row: VersionRow, current: FileRow) -> VersionOut:
    assert row.version is not None  # only confirmed versions are listed
    return VersionOut(
        version_id=row.id,
        version=row.version,
        file_size=row.file_size,
        content_type=row.content_type,
        original_name=row.original_name,
        uploaded_by=row.uploaded_by,
        created_at=row.confirmed_at or row.created_at,
        is_current=row.version == current.version,
    )


async def list_versions(ctx: ServiceContext, me: UUID, file_id: UUID) -> list[VersionOut]:
    async with ctx.database.connection() as conn:
        seat = await access_file(ctx, conn, file_id, me, VIEW)
        rows = await store.file_versions(conn, file_id)
    return [version_out(r, seat) for r in rows]


async def _version(ctx: ServiceContext, seat: FileSeat, number: int) -> VersionRow:
    async with ctx.database.connection() as conn:
        found = await store.version_by_number(conn, seat.id, number)
    if found is None:
        raise NotFound("version not found")
    return found


async def version_download_url(
    ctx: ServiceContext, me: UUID, file_id: UUID, number: int
) -> DownloadOut:
    async with ctx.database.connection() as conn:
        seat = await access_file(ctx, conn, file_id, me, VIEW)
    found = await _version(ctx, seat, number)
    return await presigned_download(ctx, found.file_key, seat.name, found.content_type)


async def do_restore_version(ctx: ServiceContext, me: UUID, file_id: UUID, number: int) -> FileOut:
    """An older version becomes current again (the others stay)."""
    async with ctx.database.transaction() as tx:
        seat = await access_file(ctx, tx, file_id, me, EDIT)
        locked = await store.lock_file(tx, file_id)
        found = await store.version_by_number(tx, file_id, number)
        if found is None or locked is None:
            raise NotFound("version not found")
        row = await store.set_current(
            tx,
            file_id,
            name=seat.name,
            key=found.file_key,
            size=found.file_size,
            content_type=found.content_type,
            number=number,
        )
    return file_out(ctx, row)
