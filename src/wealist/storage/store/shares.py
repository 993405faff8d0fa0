"""Shares of files and folders, with members or by public link."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from wealist.core.db import Conn
from wealist.storage.rows import ShareRow
from wealist.storage.store.common import queries

__all__ = (
    "delete_share",
    "insert_share",
    "share_by_id",
    "share_by_link",
    "shared_with",
    "shares_of",
    "update_share",
)


async def insert_share(
    conn: Conn,
    *,
    share_id: UUID,
    workspace_id: UUID,
    entity_type: str,
    entity_id: UUID,
    shared_with: UUID | None,
    shared_by: UUID,
    permission: str,
    link: str | None,
    expires: datetime | None,
    password_hash: str | None,
    include_children: bool,
) -> bool:
    """False when the user already has a share of this item."""
    params = {
        "id": share_id,
        "workspace": workspace_id,
        "entity_type": entity_type,
        "file": entity_id if entity_type == "FILE" else None,
        "folder": entity_id if entity_type == "FOLDER" else None,
        "shared_with": shared_with,
        "shared_by": shared_by,
        "permission": permission,
        "is_public": link is not None,
        "link": link,
        "expires": expires,
        "password": password_hash,
        "include_children": include_children,
    }
    return await conn.fetch_val(queries().insert_share, params) is not None


async def share_by_id(conn: Conn, share_id: UUID) -> ShareRow | None:
    return await conn.fetch_one(queries().share_by_id, {"id": share_id}, ShareRow)


async def share_by_link(conn: Conn, link: str) -> ShareRow | None:
    return await conn.fetch_one(queries().share_by_link, {"link": link}, ShareRow)


async def shares_of(conn: Conn, entity_type: str, entity_id: UUID) -> list[ShareRow]:
    params = {
        "file": entity_id if entity_type == "FILE" else None,
        "folder": entity_id if entity_type == "FOLDER" else None,
    }
    return await conn.fetch_all(queries().shares_of, params, ShareRow)


async def shared_with(
    conn: Conn,
    user: UUID,
    *,
    workspace_id: UUID | None,
    limit: int,
    after: tuple[datetime, UUID] | None,
) -> list[ShareRow]:
    params = {
        "user": user,
        "workspace": workspace_id,
        "limit": limit,
        "after_at": after[0] if after else None,
        "after_id": after[1] if after else None,
    }
    return await conn.fetch_all(queries().shared_with, params, ShareRow)


async def update_share(
    conn: Conn,
    share_id: UUID,
    *,
    permission: str | None,
    set_expiry: bool,
    expires: datetime | None,
    set_password: bool,
    password_hash: str | None,
) -> None:
    params = {
        "id": share_id,
        "permission": permission,
        "set_expiry": set_expiry,
        "expires": expires,
        "set_password": set_password,
        "password": password_hash,
    }
    await conn.execute(queries().update_share, params)


async def delete_share(conn: Conn, share_id: UUID) -> int:
    return await conn.execute(queries().delete_share, {"id": share_id})
