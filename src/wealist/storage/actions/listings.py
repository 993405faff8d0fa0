"""Lists of a workspace's files and folders, search, usage and the trash.

Every list shows only what the caller may see: items of the workspace's own drive and of
the shared drives they may open (private drives stay out for everyone else). Trash lists
show what the caller may restore.
"""

from __future__ import annotations

import math
from uuid import UUID

from wealist.core.context import ServiceContext
from wealist.storage import store
from wealist.storage.actions.common import (
    VIEW,
    access_folder,
    access_project,
    access_workspace,
    decode_keyset,
    discard_after_commit,
    encode_cursor,
    escape_like,
    file_out,
    folder_out,
    settings_of,
)
from wealist.storage.rows import ListedFile, Place
from wealist.storage.schemas import (
    EmptyTrashOut,
    FileListOut,
    FileOut,
    FolderOut,
    SearchOut,
    UsageOut,
)

__all__ = (
    "do_empty_trash",
    "files_of_folder",
    "root_files",
    "search",
    "trashed_files",
    "trashed_folders",
    "usage",
    "workspace_files",
)

MIB = 1024 * 1024
PURGE_BATCH = 500


def _page(
    ctx: ServiceContext, rows: list[ListedFile], page: int, page_size: int, *, keyset: bool
) -> FileListOut:
    total = rows[0].total if rows else 0
    more = len(rows) == page_size
    return FileListOut(
        files=[file_out(ctx, r) for r in rows],
        total=total,
        page=page,
        page_size=page_size,
        total_pages=math.ceil(total / page_size),
        next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id) if keyset and more else None,
    )


async def workspace_files(
    ctx: ServiceContext,
    me: UUID,
    workspace_id: UUID,
    *,
    page: int,
    page_size: int,
    cursor: str | None,
) -> FileListOut:
    """Newest first, by page; or by keyset, from ``cursor`` (``total`` then counts what
    is left from the cursor on)."""
    after = decode_keyset(cursor)
    await access_workspace(ctx, workspace_id, me)
    async with ctx.database.connection() as conn:
        rows = await store.workspace_files(
            conn,
            workspace_id,
            me,
            limit=page_size,
            offset=0 if after else (page - 1) * page_size,
            after=after,
        )
    return _page(ctx, rows, page, page_size, keyset=True)


async def files_of_folder(
    ctx: ServiceContext, me: UUID, folder_id: UUID, *, page: int, page_size: int
) -> FileListOut:
    async with ctx.database.connection() as conn:
        seat = await access_folder(ctx, conn, folder_id, me, VIEW)
        place = Place(seat.workspace_id, seat.project_id, folder_id)
        rows = await store.files_in(conn, place, limit=page_size, offset=(page - 1) * page_size)
    return _page(ctx, rows, page, page_size, keyset=False)


async def root_files(
    ctx: ServiceContext,
    me: UUID,
    workspace_id: UUID,
    project_id: UUID | None,
    *,
    page: int,
    page_size: int,
) -> FileListOut:
    """Files at the root of the workspace's drive, or of a shared drive."""
    async with ctx.database.connection() as conn:
        if project_id is None:
            await access_workspace(ctx, workspace_id, me)
        else:
            project = await access_project(ctx, conn, project_id, me, VIEW)
            if project.workspace_id != workspace_id:
                await access_workspace(ctx, workspace_id, me)
                return _page(ctx, [], page, page_size, keyset=False)
        place = Place(workspace_id, project_id, None)
        rows = await store.files_in(conn, place, limit=page_size, offset=(page - 1) * page_size)
    return _page(ctx, rows, page, page_size, keyset=False)


async def search(
    ctx: ServiceContext,
    me: UUID,
    workspace_id: UUID,
    text: str,
    kind: str,
    *,
    page: int,
    page_size: int,
) -> SearchOut:
    """Files (by name or original name) and folders (by name) containing ``text``."""
    await access_workspace(ctx, workspace_id, me)
    pattern = f"%{escape_like(text)}%"
    files: list[ListedFile] = []
    folders: list[FolderOut] = []
    async with ctx.database.connection() as conn:
        if kind in {"all", "file"}:
            files = await store.workspace_files(
                conn,
                workspace_id,
                me,
                limit=page_size,
                offset=(page - 1) * page_size,
                pattern=pattern,
            )
        if kind in {"all", "folder"} and page == 1:
            found = await store.search_folders(conn, workspace_id, me, pattern, page_size)
            folders = [folder_out(f) for f in found]
    total = files[0].total if files else 0
    return SearchOut(
        files=[file_out(ctx, f) for f in files],
        folders=folders,
        total=total,
        page=page,
        page_size=page_size,
        total_pages=math.ceil(total / page_size),
    )


async def usage(ctx: ServiceContext, me: UUID, workspace_id: UUID) -> UsageOut:
    await access_workspace(ctx, workspace_id, me)
    async with ctx.database.connection() as conn:
        row = await store.usage(conn, workspace_id)
    quota = settings_of(ctx).quota_for(str(workspace_id))
    used = row.stored + row.reserved
    return UsageOut(
        total_size=row.total_size,
        total_size_mb=round(row.total_size / MIB, 2),
        total_size_gb=round(row.total_size / (1024 * MIB), 4),
        file_count=row.file_count,
        workspace_id=workspace_id,
        quota_bytes=quota,
        used_bytes=used,
        remaining_bytes=max(quota - used, 0),
        trash_size=row.trash_size,
    )


async def trashed_files(
    ctx: ServiceContext, me: UUID, workspace_id: UUID, *, limit: int, cursor: str | None
) -> tuple[list[FileOut], str | None]:
    """Files in the trash on their own, newest first, and the next page's cursor."""
    after = decode_keyset(cursor)
    await access_workspace(ctx, workspace_id, me)
    async with ctx.database.connection() as conn:
        rows = await store.trashed_files(conn, workspace_id, me, limit=limit, after=after)
    last = rows[-1] if len(rows) == limit else None
    following = encode_cursor(last.deleted_at, last.id) if last and last.deleted_at else None
    return [file_out(ctx, r) for r in rows], following


async def trashed_folders(
    ctx: ServiceContext, me: UUID, workspace_id: UUID, *, limit: int, cursor: str | None
) -> tuple[list[FolderOut], str | None]:
    after = decode_keyset(cursor)
    await access_workspace(ctx, workspace_id, me)
    async with ctx.database.connection() as conn:
        rows = await store.trashed_folders(conn, workspace_id, me, limit=limit, after=after)
    last = rows[-1] if len(rows) == limit else None
    following = encode_cursor(last.deleted_at, last.id) if last and last.deleted_at else None
    return [folder_out(r) for r in rows], following


async def do_empty_trash(ctx: ServiceContext, me: UUID, workspace_id: UUID) -> EmptyTrashOut:
    """Everything in the trash the caller may restore goes for good, objects included."""
    await access_workspace(ctx, workspace_id, me)
    files = folders = 0
    while True:
        async with ctx.database.transaction() as tx:
            file_rows = await store.trashed_files(
                tx, workspace_id, me, limit=PURGE_BATCH, after=None
            )
            folder_rows = await store.trashed_folders(
                tx, workspace_id, me, limit=PURGE_BATCH, after=None
            )
            if not file_rows and not folder_rows:
                break
            purged = await store.purge(
                tx, folders=[f.id for f in folder_rows], files=[f.id for f in file_rows]
            )
            discard_after_commit(ctx, tx, purged.keys)
        files += purged.files
        folders += purged.folders
    return EmptyTrashOut(deleted_files=files, deleted_folders=folders)
