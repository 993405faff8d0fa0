"""The board service's SQL: one async function per named query in ``queries/*.sql``."""

from __future__ import annotations

import functools
from datetime import datetime
from uuid import UUID

from wealist.board.rows import ProjectMemberRow, ProjectRow, SeatRow
from wealist.core.db import Conn, Queries, load_queries


@functools.cache
def queries() -> Queries:
    """The named queries, read on first use (nothing happens at import time)."""
    return load_queries("wealist.board.queries")


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
    row = await conn.fetch_one(queries().insert_project, params, ProjectRow)
    if row is None:  # cannot happen: the CTE inserts unconditionally
        raise RuntimeError("insert_project returned no row")
    return row


async def project_by_id(conn: Conn, project_id: UUID, user: UUID) -> SeatRow | None:
    params = {"id": project_id, "user": user}
    return await conn.fetch_one(queries().project_by_id, params, SeatRow)


async def projects_of_workspace(conn: Conn, workspace_id: UUID) -> list[ProjectRow]:
    params = {"workspace": workspace_id}
    return await conn.fetch_all(queries().projects_of_workspace, params, ProjectRow)


async def default_project(conn: Conn, workspace_id: UUID) -> ProjectRow | None:
    params = {"workspace": workspace_id}
    return await conn.fetch_one(queries().default_project, params, ProjectRow)


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
    return await conn.fetch_one(queries().update_project, params, ProjectRow)


async def delete_project(conn: Conn, project_id: UUID) -> bool:
    return await conn.execute(queries().delete_project, {"id": project_id}) == 1


async def project_members(conn: Conn, project_id: UUID) -> list[ProjectMemberRow]:
    params = {"id": project_id}
    return await conn.fetch_all(queries().project_members, params, ProjectMemberRow)
