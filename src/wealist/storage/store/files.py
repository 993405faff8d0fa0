"""Files, their versions, usage, and the cleanup job's claims."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from wealist.core.db import Conn
from wealist.storage.rows import FileRow, FileSeat, ListedFile, Place, UsageRow, VersionRow
from wealist.storage.store.common import queries

__all__ = (
    "activate_version",
    "claim_doomed",
    "claim_expired_uploads",
    "doom",
    "drop_uploads",
    "file_names",
    "file_seat",
    "file_versions",
    "files_in",
    "forget_doomed",
    "insert_upload",
    "insert_version_upload",
    "lock_file",
    "lock_quota",
    "lock_version",
    "pending_first_version",
    "place_file",
    "restore_file",
    "set_current",
    "trash_file",
    "trashed_files",
    "usage",
    "version_by_id",
    "version_by_number",
    "workspace_files",
)


async def file_seat(conn: Conn, file_id: UUID, user: UUID) -> FileSeat | None:
    return await conn.fetch_one(queries().file_seat, {"id": file_id, "user": user}, FileSeat)


async def lock_file(conn: Conn, file_id: UUID) -> FileRow | None:
    return await conn.fetch_one(queries().lock_file, {"id": file_id}, FileRow)


async def files_in(conn: Conn, place: Place, *, limit: int, offset: int = 0) -> list[ListedFile]:
    params = {
        "workspace": place.workspace_id,
        "project": place.project_id,
        "folder": place.folder_id,
        "limit": limit,
        "offset": offset,
    }
    return await conn.fetch_all(queries().files_in, params, ListedFile)


async def workspace_files(
    conn: Conn,
    workspace_id: UUID,
    user: UUID,
    *,
    limit: int,
    offset: int,
    after: tuple[datetime, UUID] | None = None,
    pattern: str | None = None,
) -> list[ListedFile]:
    params = {
        "workspace": workspace_id,
        "user": user,
        "limit": limit,
        "offset": offset,
        "after_at": after[0] if after else None,
        "after_id": after[1] if after else None,
        "pattern": pattern,
    }
    return await conn.fetch_all(queries().workspace_files, params, ListedFile)


async def trashed_files(
    conn: Conn,
    workspace_id: UUID,
    user: UUID,
    *,
    limit: int,
    after: tuple[datetime, UUID] | None,
) -> list[ListedFile]:
    params = {
        "workspace": workspace_id,
        "user": user,
        "limit": limit,
        "after_at": after[0] if after else None,
        "after_id": after[1] if after else None,
    }
    return await conn.fetch_all(queries().trashed_files, params, ListedFile)


async def file_names(conn: Conn, place: Place, name: str, pattern: str) -> list[str]:
    params = {
        "workspace": place.workspace_id,
        "project": place.project_id,
        "folder": place.folder_id,
        "name": name,
        "pattern": pattern,
    }
    return await conn.fetch_column(queries().file_names, params)


async def insert_upload(
    conn: Conn,
    *,
    file_id: UUID,
    version_id: UUID,
    workspace_id: UUID,
    project_id: UUID | None,
    folder_id: UUID | None,
    name: str,
    key: str,
    size: int,
    content_type: str,
    user: UUID,
    expires: datetime,
) -> None:
    params = {
        "file": file_id,
        "version": version_id,
        "workspace": workspace_id,
        "project": project_id,
        "folder": folder_id,
        "name": name,
        "key": key,
        "size": size,
        "content_type": content_type,
        "user": user,
        "expires": expires,
    }
    await conn.execute(queries().insert_upload, params)


async def insert_version_upload(
    conn: Conn,
    *,
    version_id: UUID,
    file_id: UUID,
    workspace_id: UUID,
    name: str,
    key: str,
    size: int,
    content_type: str,
    user: UUID,
    expires: datetime,
) -> None:
    params = {
        "version": version_id,
        "file": file_id,
        "workspace": workspace_id,
        "name": name,
        "key": key,
        "size": size,
        "content_type": content_type,
        "user": user,
        "expires": expires,
    }
    await conn.execute(queries().insert_version_upload, params)


async def version_by_id(conn: Conn, version_id: UUID) -> VersionRow | None:
    return await conn.fetch_one(queries().version_by_id, {"id": version_id}, VersionRow)


async def pending_first_version(conn: Conn, file_id: UUID) -> VersionRow | None:
    return await conn.fetch_one(queries().pending_first_version, {"file": file_id}, VersionRow)


async def lock_version(conn: Conn, version_id: UUID) -> VersionRow | None:
    return await conn.fetch_one(queries().lock_version, {"id": version_id}, VersionRow)


async def activate_version(conn: Conn, version_id: UUID, file_id: UUID) -> int:
    number = await conn.fetch_val(queries().activate_version, {"id": version_id, "file": file_id})
    return int(number)


async def set_current(
    conn: Conn,
    file_id: UUID,
    *,
    name: str,
    key: str,
    size: int,
    content_type: str,
    number: int,
) -> FileRow:
    params = {
        "id": file_id,
        "name": name,
        "key": key,
        "size": size,
        "content_type": content_type,
        "number": number,
    }
    row = await conn.fetch_one(queries().set_current, params, FileRow)
    assert row is not None  # the caller holds the file's lock
    return row


async def file_versions(conn: Conn, file_id: UUID) -> list[VersionRow]:
    return await conn.fetch_all(queries().file_versions, {"file": file_id}, VersionRow)


async def version_by_number(conn: Conn, file_id: UUID, number: int) -> VersionRow | None:
    params = {"file": file_id, "number": number}
    return await conn.fetch_one(queries().version_by_number, params, VersionRow)


async def place_file(conn: Conn, file_id: UUID, *, name: str, folder_id: UUID | None) -> FileRow:
    params = {"id": file_id, "name": name, "folder": folder_id}
    row = await conn.fetch_one(queries().place_file, params, FileRow)
    assert row is not None  # the caller holds the file's lock
    return row


async def trash_file(conn: Conn, file_id: UUID) -> int:
    return await conn.execute(queries().trash_file, {"id": file_id})


async def restore_file(
    conn: Conn, file_id: UUID, *, name: str, folder_id: UUID | None
) -> FileRow | None:
    params = {"id": file_id, "name": name, "folder": folder_id}
    return await conn.fetch_one(queries().restore_file, params, FileRow)


async def lock_quota(conn: Conn, workspace_id: UUID) -> None:
    await conn.execute(queries().lock_quota, {"workspace": workspace_id})


async def usage(conn: Conn, workspace_id: UUID) -> UsageRow:
    row = await conn.fetch_one(queries().usage, {"workspace": workspace_id}, UsageRow)
    assert row is not None  # an aggregate always has a row
    return row


async def doom(conn: Conn, keys: Sequence[str]) -> None:
    await conn.execute(queries().doom, {"keys": list(keys)})


async def forget_doomed(conn: Conn, keys: Sequence[str]) -> None:
    await conn.execute(queries().forget_doomed, {"keys": list(keys)})


async def claim_doomed(conn: Conn, limit: int) -> list[str]:
    return await conn.fetch_column(queries().claim_doomed, {"limit": limit})


async def claim_expired_uploads(conn: Conn, limit: int) -> list[VersionRow]:
    return await conn.fetch_all(queries().claim_expired_uploads, {"limit": limit}, VersionRow)


async def drop_uploads(conn: Conn, version_ids: Sequence[UUID]) -> None:
    await conn.execute(queries().drop_uploads, {"ids": list(version_ids)})
