"""Folders: their place in the tree, the trash, and purges."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from wealist.core.db import Conn
from wealist.storage.rows import (
    CountsRow,
    FolderCounted,
    FolderRow,
    FolderSeat,
    Place,
    PurgeRow,
)
from wealist.storage.store.common import queries

__all__ = (
    "child_folders",
    "folder_counts",
    "folder_names",
    "folder_seat",
    "insert_folder",
    "lock_names",
    "purge",
    "reroot_tree",
    "restore_folder_tree",
    "search_folders",
    "set_folder",
    "trash_folder_tree",
    "trashed_folders",
    "workspace_folders",
)


async def folder_seat(conn: Conn, folder_id: UUID, user: UUID) -> FolderSeat | None:
    return await conn.fetch_one(queries().folder_seat, {"id": folder_id, "user": user}, FolderSeat)


async def folder_counts(conn: Conn, folder_id: UUID) -> CountsRow:
    row = await conn.fetch_one(queries().folder_counts, {"id": folder_id}, CountsRow)
    assert row is not None  # scalar subqueries always give a row
    return row


async def child_folders(conn: Conn, place: Place) -> list[FolderCounted]:
    params = {
        "workspace": place.workspace_id,
        "project": place.project_id,
        "parent": place.folder_id,
    }
    return await conn.fetch_all(queries().child_folders, params, FolderCounted)


async def folder_names(conn: Conn, place: Place, name: str, pattern: str) -> list[str]:
    params = {
        "workspace": place.workspace_id,
        "project": place.project_id,
        "parent": place.folder_id,
        "name": name,
        "pattern": pattern,
    }
    return await conn.fetch_column(queries().folder_names, params)


async def lock_names(conn: Conn, place: str) -> None:
    await conn.execute(queries().lock_names, {"place": place})


async def insert_folder(
    conn: Conn,
    *,
    folder_id: UUID,
    workspace_id: UUID,
    project_id: UUID | None,
    parent_id: UUID | None,
    name: str,
    path: str,
    ancestors: Sequence[UUID],
    color: str | None,
    user: UUID,
) -> FolderRow:
    params = {
        "id": folder_id,
        "workspace": workspace_id,
        "project": project_id,
        "parent": parent_id,
        "name": name,
        "path": path,
        "ancestors": list(ancestors),
        "color": color,
        "user": user,
    }
    row = await conn.fetch_one(queries().insert_folder, params, FolderRow)
    assert row is not None  # INSERT ... RETURNING
    return row


async def set_folder(
    conn: Conn, folder_id: UUID, *, name: str, color: str | None, parent_id: UUID | None
) -> None:
    params = {"id": folder_id, "name": name, "color": color, "parent": parent_id}
    await conn.execute(queries().set_folder, params)


async def reroot_tree(
    conn: Conn,
    folder_id: UUID,
    *,
    old_path: str,
    new_path: str,
    old_depth: int,
    new_prefix: Sequence[UUID],
) -> None:
    params = {
        "id": folder_id,
        "old_path": old_path,
        "new_path": new_path,
        "old_depth": old_depth,
        "new_prefix": list(new_prefix),
    }
    await conn.execute(queries().reroot_tree, params)


async def trash_folder_tree(conn: Conn, folder_id: UUID) -> None:
    await conn.execute(queries().trash_folder_tree, {"id": folder_id})


async def restore_folder_tree(conn: Conn, folder_id: UUID) -> None:
    await conn.execute(queries().restore_folder_tree, {"id": folder_id})


async def workspace_folders(
    conn: Conn, workspace_id: UUID, user: UUID, limit: int
) -> list[FolderCounted]:
    params = {"workspace": workspace_id, "user": user, "limit": limit}
    return await conn.fetch_all(queries().workspace_folders, params, FolderCounted)


async def trashed_folders(
    conn: Conn,
    workspace_id: UUID,
    user: UUID,
    *,
    limit: int,
    after: tuple[datetime, UUID] | None,
) -> list[FolderCounted]:
    params = {
        "workspace": workspace_id,
        "user": user,
        "limit": limit,
        "after_at": after[0] if after else None,
        "after_id": after[1] if after else None,
    }
    return await conn.fetch_all(queries().trashed_folders, params, FolderCounted)


async def search_folders(
    conn: Conn, workspace_id: UUID, user: UUID, pattern: str, limit: int
) -> list[FolderCounted]:
    params = {"workspace": workspace_id, "user": user, "pattern": pattern, "limit": limit}
    return await conn.fetch_all(queries().search_folders, params, FolderCounted)


async def purge(conn: Conn, *, folders: Sequence[UUID], files: Sequence[UUID]) -> PurgeRow:
    params = {"folders": list(folders), "files": list(files)}
    row = await conn.fetch_one(queries().purge, params, PurgeRow)
    assert row is not None  # an aggregate always has a row
    return row
