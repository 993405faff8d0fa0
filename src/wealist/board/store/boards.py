"""Boards (tasks): ranks, the board view, participants, activity, search, reminders."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from psycopg.types.json import Jsonb

from wealist.board.rows import ActivityRow, BoardRow, DueRow, ParticipantRow, SeatedBoardRow
from wealist.board.store.sql import Q
from wealist.core.db import Conn

# --- ranks ------------------------------------------------------------------------------


async def last_rank_in_group(
    conn: Conn, project_id: UUID, field: str, value: str, exclude: UUID
) -> str | None:
    params = {"project": project_id, "field": field, "value": value, "exclude": exclude}
    found = await conn.fetch_val(Q().last_rank_in_group, params)
    return None if found is None else str(found)


async def rank_after(conn: Conn, project_id: UUID, rank: str, exclude: UUID) -> str | None:
    params = {"project": project_id, "rank": rank, "exclude": exclude}
    found = await conn.fetch_val(Q().rank_after, params)
    return None if found is None else str(found)


async def rank_before(conn: Conn, project_id: UUID, rank: str, exclude: UUID) -> str | None:
    params = {"project": project_id, "rank": rank, "exclude": exclude}
    found = await conn.fetch_val(Q().rank_before, params)
    return None if found is None else str(found)


async def board_rank(conn: Conn, project_id: UUID, board_id: UUID) -> str | None:
    found = await conn.fetch_val(Q().board_rank, {"id": board_id, "project": project_id})
    return None if found is None else str(found)


async def project_ranks(conn: Conn, project_id: UUID) -> list[UUID]:
    return await conn.fetch_column(Q().project_ranks, {"project": project_id})


async def renumber(conn: Conn, ids: list[UUID], ranks: list[str]) -> None:
    await conn.execute(Q().renumber, {"ids": ids, "ranks": ranks})


# --- boards -----------------------------------------------------------------------------


async def insert_board(
    conn: Conn,
    *,
    board_id: UUID,
    project_id: UUID,
    author: UUID,
    assignee: UUID | None,
    title: str,
    content: str,
    custom_fields: dict[str, str],
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
        "custom_fields": Jsonb(custom_fields),
        "rank": rank,
        "start": start,
        "due": due,
    }
    await conn.execute(Q().insert_board, params)


async def update_board(
    conn: Conn,
    board_id: UUID,
    *,
    title: str,
    content: str,
    custom_fields: dict[str, str],
    assignee: UUID | None,
    start: datetime | None,
    due: datetime | None,
) -> None:
    params = {
        "id": board_id,
        "title": title,
        "content": content,
        "custom_fields": Jsonb(custom_fields),
        "assignee": assignee,
        "start": start,
        "due": due,
    }
    await conn.execute(Q().update_board, params)


async def touch_board(conn: Conn, board_id: UUID) -> None:
    await conn.execute(Q().touch_board, {"id": board_id})


async def board_view(conn: Conn, board_id: UUID) -> BoardRow | None:
    return await conn.fetch_one(Q().board_view, {"id": board_id}, BoardRow)


async def board_project(conn: Conn, board_id: UUID) -> UUID | None:
    found: UUID | None = await conn.fetch_val(Q().board_project, {"id": board_id})
    return found


async def list_boards(conn: Conn, project_id: UUID, filter_: dict[str, str]) -> list[BoardRow]:
    params = {"project": project_id, "filter": Jsonb(filter_)}
    return await conn.fetch_all(Q().list_boards, params, BoardRow)


async def project_boards_for(
    conn: Conn, project_id: UUID, user_id: UUID, filter_: dict[str, str]
) -> list[SeatedBoardRow]:
    params = {"project": project_id, "user": user_id, "filter": Jsonb(filter_)}
    return await conn.fetch_all(Q().project_boards_for, params, SeatedBoardRow)


async def search_boards(
    conn: Conn,
    workspace_id: UUID,
    project_id: UUID | None,
    pattern: str,
    *,
    before: tuple[datetime, UUID] | None,
    limit: int,
) -> list[BoardRow]:
    params = {
        "workspace": workspace_id,
        "project": project_id,
        "pattern": pattern,
        "before_at": before[0] if before else None,
        "before_id": before[1] if before else None,
        "limit": limit,
    }
    return await conn.fetch_all(Q().search_boards, params, BoardRow)


async def move_board(
    conn: Conn, project_id: UUID, board_id: UUID, *, field: str, value: str, rank: str
) -> bool:
    params = {"id": board_id, "project": project_id, "field": field, "value": value, "rank": rank}
    return await conn.execute(Q().move_board, params) == 1


async def delete_board(conn: Conn, board_id: UUID) -> bool:
    return await conn.execute(Q().delete_board, {"id": board_id}) == 1


# --- participants -----------------------------------------------------------------------


async def add_participants(conn: Conn, board_id: UUID, users: list[UUID]) -> list[UUID]:
    """Adds the users who are not participants yet; returns them."""
    return await conn.fetch_column(Q().add_participants, {"board": board_id, "users": users})


async def replace_participants(conn: Conn, board_id: UUID, users: list[UUID]) -> list[UUID]:
    """The participants become ``users``; returns the newly added ones."""
    return await conn.fetch_column(Q().replace_participants, {"board": board_id, "users": users})


async def participants_of_board(conn: Conn, board_id: UUID) -> list[ParticipantRow]:
    return await conn.fetch_all(Q().participants_of_board, {"board": board_id}, ParticipantRow)


async def remove_participant(conn: Conn, board_id: UUID, user: UUID) -> bool:
    return await conn.execute(Q().remove_participant, {"board": board_id, "user": user}) == 1


# --- activity ---------------------------------------------------------------------------


async def insert_activity(
    conn: Conn, board_id: UUID, actor: UUID, action: str, changes: list[dict[str, str | None]]
) -> None:
    params = {"board": board_id, "actor": actor, "action": action, "changes": Jsonb(changes)}
    await conn.execute(Q().insert_activity, params)


async def activity_of_board(
    conn: Conn, board_id: UUID, before: int | None, limit: int
) -> list[ActivityRow]:
    params = {"board": board_id, "before": before, "limit": limit}
    return await conn.fetch_all(Q().activity_of_board, params, ActivityRow)


# --- reminders --------------------------------------------------------------------------


async def claim_due_soon(conn: Conn, window_s: float, limit: int) -> list[DueRow]:
    return await conn.fetch_all(Q().claim_due_soon, {"window": window_s, "limit": limit}, DueRow)


async def claim_overdue(conn: Conn, limit: int) -> list[DueRow]:
    return await conn.fetch_all(Q().claim_overdue, {"limit": limit}, DueRow)
