"""Field options (the values of a project's stage, importance and role fields)."""

from __future__ import annotations

from uuid import UUID

from wealist.board.rows import FieldOptionRow, OptionValueRow
from wealist.board.store.sql import Q
from wealist.core.db import Conn


async def option_values(conn: Conn, project_id: UUID) -> list[OptionValueRow]:
    return await conn.fetch_all(Q().option_values, {"project": project_id}, OptionValueRow)


async def options_of_project(
    conn: Conn, project_id: UUID, field_type: str | None
) -> list[FieldOptionRow]:
    params = {"project": project_id, "type": field_type}
    return await conn.fetch_all(Q().options_of_project, params, FieldOptionRow)


async def options_of_member_projects(
    conn: Conn, user: UUID, field_type: str | None
) -> list[FieldOptionRow]:
    params = {"user": user, "type": field_type}
    return await conn.fetch_all(Q().options_of_member_projects, params, FieldOptionRow)


async def option_project(conn: Conn, option_id: UUID) -> UUID | None:
    found: UUID | None = await conn.fetch_val(Q().option_project, {"id": option_id})
    return found


async def option_by_id(conn: Conn, option_id: UUID) -> FieldOptionRow | None:
    return await conn.fetch_one(Q().option_by_id, {"id": option_id}, FieldOptionRow)


async def insert_option(
    conn: Conn,
    project_id: UUID,
    *,
    field_type: str,
    value: str,
    label: str,
    color: str,
    order: int,
) -> FieldOptionRow | None:
    """The new option; None when the project has that value for that field already."""
    params = {
        "project": project_id,
        "type": field_type,
        "value": value,
        "label": label,
        "color": color,
        "order": order,
    }
    return await conn.fetch_one(Q().insert_option, params, FieldOptionRow)


async def update_option(
    conn: Conn, option_id: UUID, *, label: str | None, color: str | None, order: int | None
) -> FieldOptionRow | None:
    params = {"id": option_id, "label": label, "color": color, "order": order}
    return await conn.fetch_one(Q().update_option, params, FieldOptionRow)


async def delete_option(conn: Conn, option_id: UUID) -> bool:
    return await conn.execute(Q().delete_option, {"id": option_id}) == 1


async def option_in_use(conn: Conn, project_id: UUID, field_type: str, value: str) -> bool:
    params = {"project": project_id, "type": field_type, "value": value}
    return bool(await conn.fetch_val(Q().option_in_use, params))
