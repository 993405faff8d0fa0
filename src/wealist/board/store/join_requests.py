"""Requests to join a project."""

from __future__ import annotations

from uuid import UUID

from wealist.board.rows import JoinRequestRow
from wealist.board.store.sql import Q
from wealist.core.db import Conn


async def insert_join_request(conn: Conn, project_id: UUID, user: UUID) -> JoinRequestRow | None:
    """The new PENDING request; None when one is pending already."""
    params = {"project": project_id, "user": user}
    return await conn.fetch_one(Q().insert_join_request, params, JoinRequestRow)


async def join_requests_of_project(
    conn: Conn, project_id: UUID, status: str | None
) -> list[JoinRequestRow]:
    params = {"project": project_id, "status": status}
    return await conn.fetch_all(Q().join_requests_of_project, params, JoinRequestRow)


async def join_request_project(conn: Conn, request_id: UUID) -> UUID | None:
    found: UUID | None = await conn.fetch_val(Q().join_request_project, {"id": request_id})
    return found


async def join_request_for_update(conn: Conn, request_id: UUID) -> JoinRequestRow | None:
    return await conn.fetch_one(Q().join_request_for_update, {"id": request_id}, JoinRequestRow)


async def decide_join_request(conn: Conn, request_id: UUID, status: str) -> JoinRequestRow | None:
    params = {"id": request_id, "status": status}
    return await conn.fetch_one(Q().decide_join_request, params, JoinRequestRow)
