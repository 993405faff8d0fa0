"""Drives ("projects") and their members."""

from __future__ import annotations

from uuid import UUID

from wealist.core.db import Conn
from wealist.storage.rows import MemberRow, ProjectSeat, ProjectView, PurgeRow
from wealist.storage.store.common import queries

__all__ = (
    "delete_member",
    "delete_project",
    "insert_member",
    "insert_project",
    "lock_project_owners",
    "project_member",
    "project_members",
    "project_seat",
    "project_view",
    "purge_project",
    "update_member",
    "update_project",
    "visible_projects",
)


async def insert_project(
    conn: Conn,
    *,
    project_id: UUID,
    workspace_id: UUID,
    user: UUID,
    name: str,
    description: str | None,
    default_permission: str,
    is_public: bool,
) -> None:
    params = {
        "id": project_id,
        "workspace": workspace_id,
        "user": user,
        "name": name,
        "description": description,
        "default_permission": default_permission,
        "is_public": is_public,
    }
    await conn.execute(queries().insert_project, params)


async def project_seat(conn: Conn, project_id: UUID, user: UUID) -> ProjectSeat | None:
    return await conn.fetch_one(
        queries().project_seat, {"id": project_id, "user": user}, ProjectSeat
    )


async def project_view(conn: Conn, project_id: UUID, user: UUID) -> ProjectView | None:
    return await conn.fetch_one(
        queries().project_view, {"id": project_id, "user": user}, ProjectView
    )


async def visible_projects(
    conn: Conn, workspace_id: UUID, user: UUID, *, limit: int, offset: int
) -> list[ProjectView]:
    params = {"workspace": workspace_id, "user": user, "limit": limit, "offset": offset}
    return await conn.fetch_all(queries().visible_projects, params, ProjectView)


async def update_project(
    conn: Conn,
    project_id: UUID,
    *,
    name: str | None,
    description: str | None,
    set_description: bool,
    default_permission: str | None,
    is_public: bool | None,
) -> None:
    params = {
        "id": project_id,
        "name": name,
        "description": description,
        "set_description": set_description,
        "default_permission": default_permission,
        "is_public": is_public,
    }
    await conn.execute(queries().update_project, params)


async def delete_project(conn: Conn, project_id: UUID) -> int:
    return await conn.execute(queries().delete_project, {"id": project_id})


async def purge_project(conn: Conn, project_id: UUID) -> PurgeRow:
    row = await conn.fetch_one(queries().purge_project, {"id": project_id}, PurgeRow)
    assert row is not None  # an aggregate always has a row
    return row


async def project_members(conn: Conn, project_id: UUID) -> list[MemberRow]:
    return await conn.fetch_all(queries().project_members, {"project": project_id}, MemberRow)


async def project_member(conn: Conn, project_id: UUID, who: UUID) -> MemberRow | None:
    params = {"project": project_id, "who": who}
    return await conn.fetch_one(queries().project_member, params, MemberRow)


async def insert_member(
    conn: Conn, project_id: UUID, user: UUID, permission: str, added_by: UUID
) -> MemberRow | None:
    params = {"project": project_id, "user": user, "permission": permission, "added_by": added_by}
    return await conn.fetch_one(queries().insert_member, params, MemberRow)


async def update_member(conn: Conn, member_id: UUID, permission: str) -> MemberRow | None:
    params = {"id": member_id, "permission": permission}
    return await conn.fetch_one(queries().update_member, params, MemberRow)


async def delete_member(conn: Conn, member_id: UUID) -> None:
    await conn.execute(queries().delete_member, {"id": member_id})


async def lock_project_owners(conn: Conn, project_id: UUID) -> list[UUID]:
    return await conn.fetch_column(queries().lock_project_owners, {"project": project_id})
