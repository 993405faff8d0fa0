"""Attachments: uploads (TEMP), confirmed files of projects, boards and comments, purges."""

from __future__ import annotations

from uuid import UUID

from wealist.board.rows import AttachmentRow, OwnedFileRow, PurgeRow
from wealist.board.store.sql import Q
from wealist.core.db import Conn


async def insert_upload(
    conn: Conn,
    *,
    attachment_id: UUID,
    workspace_id: UUID,
    entity_type: str,
    key: str,
    name: str,
    size: int,
    content_type: str,
    user: UUID,
    ttl_s: int,
) -> None:
    params = {
        "id": attachment_id,
        "workspace": workspace_id,
        "entity_type": entity_type,
        "key": key,
        "name": name,
        "size": size,
        "content_type": content_type,
        "user": user,
        "ttl": ttl_s,
    }
    await conn.execute(Q().insert_upload, params)


async def pending_uploads(conn: Conn, user: UUID) -> int:
    return int(await conn.fetch_val(Q().pending_uploads, {"user": user}))


async def attachment_by_id(conn: Conn, attachment_id: UUID) -> AttachmentRow | None:
    return await conn.fetch_one(Q().attachment_by_id, {"id": attachment_id}, AttachmentRow)


async def attachment_by_key(conn: Conn, key: str) -> AttachmentRow | None:
    return await conn.fetch_one(Q().attachment_by_key, {"key": key}, AttachmentRow)


async def uploads_to_confirm(conn: Conn, ids: list[UUID], user: UUID) -> list[AttachmentRow]:
    params = {"ids": ids, "user": user}
    return await conn.fetch_all(Q().uploads_to_confirm, params, AttachmentRow)


async def confirm_uploads(
    conn: Conn, ids: list[UUID], *, entity: UUID, project: UUID, board: UUID | None
) -> None:
    params = {"ids": ids, "entity": entity, "project": project, "board": board}
    await conn.execute(Q().confirm_uploads, params)


async def files_of_entity(conn: Conn, entity_id: UUID, entity_type: str) -> list[AttachmentRow]:
    params = {"entity": entity_id, "entity_type": entity_type}
    return await conn.fetch_all(Q().files_of_entity, params, AttachmentRow)


async def files_of_projects(conn: Conn, ids: list[UUID]) -> list[OwnedFileRow]:
    return await conn.fetch_all(Q().projects_attachments, {"ids": ids}, OwnedFileRow)


async def discard(
    conn: Conn,
    *,
    attachment: UUID | None = None,
    project: UUID | None = None,
    board: UUID | None = None,
    comment: UUID | None = None,
) -> int:
    """Hand files to the cleanup job: one, or those of a project, board or comment."""
    params = {"id": attachment, "project": project, "board": board, "comment": comment}
    return await conn.execute(Q().discard, params)


async def discard_workspace(conn: Conn, workspace_id: UUID) -> int:
    return await conn.execute(Q().discard_workspace, {"workspace": workspace_id})


async def claim_purge(conn: Conn, limit: int) -> list[PurgeRow]:
    return await conn.fetch_all(Q().claim_purge, {"limit": limit}, PurgeRow)


async def delete_attachments(conn: Conn, ids: list[UUID]) -> None:
    await conn.execute(Q().delete_attachments, {"ids": ids})
