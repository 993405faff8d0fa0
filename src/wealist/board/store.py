"""The board service's SQL: one async function per named query in ``queries/*.sql``."""

from __future__ import annotations

import functools
from datetime import datetime
from uuid import UUID

from psycopg.types.json import Jsonb

from wealist.board.rows import BoardRow, OptionRow, ProjectMemberRow, ProjectRow, SeatRow
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


# --- boards -----------------------------------------------------------------------------


async def lock_project(conn: Conn, project_id: UUID, user: UUID) -> SeatRow | None:
    return await conn.fetch_one(queries().lock_project, {"id": project_id, "user": user}, SeatRow)


async def option_values(conn: Conn, project_id: UUID) -> list[OptionRow]:
    return await conn.fetch_all(queries().option_values, {"project": project_id}, OptionRow)


async def last_rank_in_group(
    conn: Conn, project_id: UUID, field: str, value: str, exclude: UUID
) -> str | None:
    params = {"project": project_id, "field": field, "value": value, "exclude": exclude}
    found = await conn.fetch_val(queries().last_rank_in_group, params)
    return None if found is None else str(found)


async def rank_after(conn: Conn, project_id: UUID, rank: str, exclude: UUID) -> str | None:
    params = {"project": project_id, "rank": rank, "exclude": exclude}
    found = await conn.fetch_val(queries().rank_after, params)
    return None if found is None else str(found)


async def rank_before(conn: Conn, project_id: UUID, rank: str, exclude: UUID) -> str | None:
    params = {"project": project_id, "rank": rank, "exclude": exclude}
    found = await conn.fetch_val(queries().rank_before, params)
    return None if found is None else str(found)


async def board_rank(conn: Conn, project_id: UUID, board_id: UUID) -> str | None:
    params = {"id": board_id, "project": project_id}
    found = await conn.fetch_val(queries().board_rank, params)
    return None if found is None else str(found)


async def project_ranks(conn: Conn, project_id: UUID) -> list[UUID]:
    return await conn.fetch_column(queries().project_ranks, {"project": project_id})


async def renumber(conn: Conn, ids: list[UUID], ranks: list[str]) -> None:
    await conn.execute(queries().renumber, {"ids": ids, "ranks": ranks})


async def insert_board(
    conn: Conn,
    *,
    board_id: UUID,
    project_id: UUID,
    author: UUID,
    assignee: UUID | None,
    title: str,
    content: str,
    custom_fields: Jsonb,
    rank: str,
    start: datetime | None,
    due: datetime | None,
) -> None:
    params = {
        "id": board_id,
        "project": project_id,
        "author": author,
        "assignee": assignee,
        "title": title,
        "content": content,
        "custom_fields": custom_fields,
        "rank": rank,
        "start": start,
        "due": due,
    }
    await conn.execute(queries().insert_board, params)


async def add_participants(conn: Conn, board_id: UUID, users: list[UUID]) -> None:
    await conn.execute(queries().add_participants, {"board": board_id, "users": users})


async def board_view(conn: Conn, board_id: UUID) -> BoardRow | None:
    return await conn.fetch_one(queries().board_view, {"id": board_id}, BoardRow)


async def list_boards(conn: Conn, project_id: UUID, filter_: Jsonb) -> list[BoardRow]:
    params = {"project": project_id, "filter": filter_}
    return await conn.fetch_all(queries().list_boards, params, BoardRow)


async def move_board(
    conn: Conn, project_id: UUID, board_id: UUID, *, field: str, value: str, rank: str
) -> bool:
    params = {"id": board_id, "project": project_id, "field": field, "value": value, "rank": rank}
    return await conn.execute(queries().move_board, params) == 1


async def delete_board(conn: Conn, board_id: UUID) -> bool:
    return await conn.execute(queries().delete_board, {"id": board_id}) == 1
