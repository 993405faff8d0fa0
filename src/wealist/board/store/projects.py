"""Projects and their members."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from wealist.board.rows import ProjectHitRow, ProjectMemberRow, ProjectRow, SeatRow
from wealist.board.store.sql import Q
from wealist.core.db import Conn


async def insert_project(
    conn: Conn,
    *,
    project_id: UUID,
    workspace_id: UUID,
    owner: UUID,
    name: str,
    description: str,
    start: datetime | None,
    due: datetime | None,
) -> ProjectRow:
    params = {
        "id": project_id,
        "workspace": workspace_id,
        "owner": owner,
        "name": name,
        "description": description,
        "start": start,
        "due": due,
    }
    row = await conn.fetch_one(Q().insert_project, params, ProjectRow)
    if row is None:  # cannot happen: the CTE inserts unconditionally
        raise RuntimeError("insert_project returned no row")
    return row


async def project_by_id(conn: Conn, project_id: UUID, user: UUID) -> SeatRow | None:
    return await conn.fetch_one(Q().project_by_id, {"id": project_id, "user": user}, SeatRow)


async def lock_project(conn: Conn, project_id: UUID, user: UUID) -> SeatRow | None:
    return await conn.fetch_one(Q().lock_project, {"id": project_id, "user": user}, SeatRow)


async def projects_of_workspace(conn: Conn, workspace_id: UUID) -> list[ProjectRow]:
    return await conn.fetch_all(Q().projects_of_workspace, {"workspace": workspace_id}, ProjectRow)


async def search_projects(
    conn: Conn, workspace_id: UUID, pattern: str, limit: int, offset: int
) -> list[ProjectHitRow]:
    params = {"workspace": workspace_id, "pattern": pattern, "limit": limit, "offset": offset}
    return await conn.fetch_all(Q().search_projects, params, ProjectHitRow)


async def default_project(conn: Conn, workspace_id: UUID) -> ProjectRow | None:
    return await conn.fetch_one(Q().default_project, {"workspace": workspace_id}, ProjectRow)


async def update_project(
    conn: Conn,
    project_id: UUID,
    *,
    name: str | None,
    description: str | None,
    start: datetime | None,
    set_start: bool,
    due: datetime | None,
    set_due: bool,
) -> ProjectRow | None:
    params = {
        "id": project_id,
        "name": name,
        "description": description,
        "start": start,
        "set_start": set_start,
        "due": due,
        "set_due": set_due,
    }
    return await conn.fetch_one(Q().update_project, params, ProjectRow)


async def delete_project(conn: Conn, project_id: UUID) -> bool:
    return await conn.execute(Q().delete_project, {"id": project_id}) == 1


async def project_members(conn: Conn, project_id: UUID) -> list[ProjectMemberRow]:
    return await conn.fetch_all(Q().project_members, {"id": project_id}, ProjectMemberRow)


async def member_by_user(conn: Conn, project_id: UUID, user: UUID) -> ProjectMemberRow | None:
    params = {"project": project_id, "user": user}
    return await conn.fetch_one(Q().member_by_user, params, ProjectMemberRow)


async def set_member_role(
    conn: Conn, project_id: UUID, user: UUID, role: str
) -> ProjectMemberRow | None:
    params = {"project": project_id, "user": user, "role": role}
    return await conn.fetch_one(Q().set_member_role, params, ProjectMemberRow)


async def transfer_ownership(conn: Conn, project_id: UUID, user: UUID) -> None:
    await conn.execute(Q().transfer_ownership, {"project": project_id, "user": user})
    await conn.execute(Q().set_project_owner, {"project": project_id, "user": user})


async def remove_member(conn: Conn, project_id: UUID, user: UUID) -> bool:
    return await conn.execute(Q().remove_member, {"project": project_id, "user": user}) == 1


async def add_member(conn: Conn, project_id: UUID, user: UUID) -> bool:
    return await conn.execute(Q().add_member, {"project": project_id, "user": user}) == 1


async def remove_user_everywhere(conn: Conn, workspace_id: UUID, user: UUID) -> int:
    return await conn.execute(Q().remove_user_everywhere, {"workspace": workspace_id, "user": user})


async def projects_owned_in(conn: Conn, workspace_id: UUID, user: UUID) -> list[UUID]:
    return await conn.fetch_column(Q().projects_owned_in, {"workspace": workspace_id, "user": user})


async def delete_workspace_projects(conn: Conn, workspace_id: UUID) -> list[UUID]:
    return await conn.fetch_column(Q().delete_workspace_projects, {"workspace": workspace_id})
